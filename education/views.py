from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone, translation
from django.views.decorators.http import require_POST, require_safe

from portal import handouts
from portal.language import supported_language
from portal.models import AccessLog

from .forms import SearchForm, TeachBackForm
from .models import Article, ArticleRead, article_uses
from .reading import teach_back

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


def _language() -> str:
    """The page's language ("en", "es"): the patient's, or the browser's before login and for staff."""
    return supported_language(translation.get_language())


def _for_reader(request, slug: str) -> tuple[Article, bool]:
    """(the article a reader gets at `slug`, whether it is English shown for want of a translation).

    A patient gets the topic's published version in their language where there is one
    (the caller redirects to it); staff previewing get exactly the row the slug names.
    """
    article = _get_article_for_user(request, slug)
    if _patient_of(request.user) is None:
        return article, False
    language = _language()
    article = article.version_in(language)
    return article, article.language != language and article.language == settings.LANGUAGE_CODE


@login_required
def article_list(request):
    form = SearchForm(request.GET)
    query = form.cleaned_data["q"] if form.is_valid() else ""
    language = _language()
    library = (
        Article.objects.published()
        .in_language(language)
        .search(query)
        .only("title", "slug", "summary", "language")
        .order_by("title", "pk")
    )
    page = Paginator(library, LIBRARY_PAGE_SIZE).get_page(request.GET.get("page"))
    patient = _patient_of(request.user)
    mine = []
    if patient is not None and not query and page.number == 1:
        mine = list(
            Article.objects.for_patient(patient, patient.local_today(), language).only(
                "title", "slug", "summary", "language"
            )
        )
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


@require_safe
@login_required
def article_by_number(request, pk):
    """A published article by its number, for links in emails: a slug can name a condition, and email is not private."""
    return redirect(get_object_or_404(Article.objects.published(), pk=pk))


@require_safe
@login_required
def article_detail(request, slug):
    """The article; for a patient also where it fits in their plan and its teach-back questions.

    A patient's GET records the read (like AccessLog, bookkeeping rather than a change they asked for).
    """
    article, not_translated = _for_reader(request, slug)
    if article.slug != slug:
        return redirect(article)  # the same topic in the patient's language
    context = {
        "article": article,
        "portal_url": handouts.portal_url(article.get_absolute_url()),
        "not_translated": not_translated,
    }
    patient = _patient_of(request.user)
    if patient is not None and article.is_published:
        if request.method == "GET":  # a HEAD reads nothing
            ArticleRead.objects.record(patient=patient, article=article, now=timezone.now())
        questions = teach_back(patient, article)
        context["uses"] = article_uses(patient, patient.local_today(), article)
        if context["uses"] and request.method == "GET":  # where it fits is part of the plan
            what = f"Article {article.pk}: its place in the plan"
            AccessLog.objects.record(request, patient=patient, action=AccessLog.VIEW, what=what)
        context["questions"] = [
            (state, None if state.right else TeachBackForm(state.question, article)) for state in questions
        ]
        context["understood"] = bool(questions) and all(state.right for state in questions)
    elif request.user.has_perm(STAFF_VIEW_PERMISSION):
        context["preview_questions"] = article.questions.all()  # staff reviewing the text see the answers
    return render(request, "education/article_detail.html", context)


@require_POST
@login_required
def answer_question(request, slug, question_id):
    """A patient's answer to one teach-back question; back to the question, which says how it went."""
    patient = _patient_of(request.user)
    if patient is None:
        raise Http404("Only patients answer the questions.")
    article = get_object_or_404(Article.objects.published(), slug=slug)
    question = get_object_or_404(article.questions, pk=question_id)
    form = TeachBackForm(question, article, request.POST)
    if form.is_valid():
        answer = question.answer(patient=patient, choice=form.cleaned_data["choice"], revision=article.revision)
        result = "right" if answer.correct else "wrong"
        what = f"Teach-back answer: article #{article.pk} question #{question.pk} ({result})"
        AccessLog.objects.record(request, patient=patient, action=AccessLog.CHANGE, what=what)
    else:
        messages.error(request, form.errors["choice"][0])
    return redirect(f"{article.get_absolute_url()}#question-{question.pk}")


def _handout_response(article: Article, *, language: str, not_translated: bool = False):
    url = handouts.portal_url(article.get_absolute_url())
    with translation.override(language):
        pdf = handouts.render_pdf(
            "handouts/article.html",
            {
                "article": article,
                "url": url,
                "qr": handouts.qr_svg(url),
                "language": language,
                "not_translated": not_translated,
            },
        )
    return handouts.pdf_response(pdf, article.slug)


@handouts.printout
@login_required
def article_handout(request, slug):
    """The article as a PDF; a patient gets it in their language like the page (English with a notice until then)."""
    article, not_translated = _for_reader(request, slug)
    language = _language() if _patient_of(request.user) is not None else article.language
    return _handout_response(article, language=language, not_translated=not_translated)


@handouts.printout
@login_required
@permission_required(STAFF_VIEW_PERMISSION, raise_exception=True)
def staff_article_handout(request, slug):
    """The same handout for the front desk to print, whatever the article's status (drafts are stamped).

    Printed in the article's own language (a Spanish article's handout goes to a Spanish reader).
    """
    article = get_object_or_404(Article.objects.select_related("medical_reviewer"), slug=slug)
    return _handout_response(article, language=article.language)
