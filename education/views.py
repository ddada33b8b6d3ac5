from django.contrib.auth.decorators import login_required
from django.http import Http404


@login_required
def article_list(request):
    raise Http404


@login_required
def article_detail(request, slug):
    raise Http404


@login_required
def staff_article_handout(request, slug):
    raise Http404
