from django.conf import settings

from .reversing import cached_reverse

# The links in every page's header and on the today page: `{{ urls.plan }}` and so on.
PAGE_URLS = {
    "home": "home",
    "plan": "routines:plan",
    "learn": "education:article-list",
    "reminders": "reminders:settings",
    "logout": "logout",
}


def clinic(request):
    return {"clinic_name": settings.CLINIC_NAME, "clinic_phone": settings.CLINIC_PHONE}


def page_urls(request):
    """The portal's fixed links, reversed once per process (see `cached_reverse`) instead of per `{% url %}`."""
    return {"urls": {key: cached_reverse(name) for key, name in PAGE_URLS.items()}}
