from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render

from portal import handouts
from portal.models import AccessLog

from .forms import SearchForm
from .models import Article

STAFF_VIEW_PERMISSION = "education.view_article"
LIBRARY_PAGE_SIZE = 20  # articles a page: one phone screen or two


def _get_article_for_user(request, slug: str) -> Article:
    """A published article; staff who may view articles also get drafts (to preview them). Else 404."""
    articles = Article.objects.select_related("medical_reviewer")
    if not request.user.has_perm(STAFF_VIEW_PERMISSION):
        articles = articles.published()
    return get_object_or_404(articles, slug=slug)


def _patient_of(user):
    return getattr(user, "patient", None)


@login_required
def article_list(request):
    form = SearchForm(request.GET)
    query = form.cleaned_data["q"] if form.is_valid() else ""
    library = Article.objects.published().search(query).only("title", "slug", "summary").order_by("title", "pk")
    page = Paginator(library, LIBRARY_PAGE_SIZE).get_page(request.GET.get("page"))
    patient = _patient_of(request.user)
    mine = []
    if patient is not None and not query and page.number == 1:
        mine = list(Article.objects.for_patient(patient, patient.local_today()).only("title", "slug", "summary"))
        if mine:
            # Which articles the plan links is part of the plan.
            AccessLog.objects.record(request, patient=patient, action=AccessLog.VIEW, what="Learn: the plan's articles")
    return render(
        request,
        "education/article_list.html",
        {
            "form": form,
            "query": query,
            "mine": mine,
            "groups": page.object_list.grouped_by_condition(),
            "page_obj": page,
            "is_patient": patient is not None,
        },
    )


@login_required
def article_detail(request, slug):
    article = _get_article_for_user(request, slug)
    portal_url = handouts.portal_url(article.get_absolute_url())
    return render(request, "education/article_detail.html", {"article": article, "portal_url": portal_url})


def _handout_response(article: Article):
    url = handouts.portal_url(article.get_absolute_url())
    pdf = handouts.render_pdf(
        "handouts/article.html",
        {"article": article, "url": url, "qr": handouts.qr_svg(url), "language": article.language},
    )
    return handouts.pdf_response(pdf, article.slug)


@handouts.printout
@login_required
def article_handout(request, slug):
    return _handout_response(_get_article_for_user(request, slug))


@handouts.printout
@login_required
@permission_required(STAFF_VIEW_PERMISSION, raise_exception=True)
def staff_article_handout(request, slug):
    """The same handout for the front desk to print, whatever the article's status (drafts are stamped)."""
    article = get_object_or_404(Article.objects.select_related("medical_reviewer"), slug=slug)
    return _handout_response(article)
