"""The interface language: the patient's record decides, the browser only before login.

A signed-in patient's pages, and everything sent to them, are in
`Patient.preferred_language` (see `PatientLanguageMiddleware`). Pages before
login and staff pages follow the browser: Django's LocaleMiddleware reads the
`django_language` cookie that Django's own `set_language` view sets, then
Accept-Language. Whatever the source, a code outside settings.LANGUAGES falls
back to English (settings.LANGUAGE_CODE), never to an error page.
"""

import functools

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.utils import translation
from django.views.decorators.http import require_POST

from .models import Patient
from .redirects import safe_next
from .reversing import cached_reverse


def supported_language(code: str | None) -> str:
    """`code` as one of settings.LANGUAGES ("es-MX" is "es"), else settings.LANGUAGE_CODE."""
    try:
        return translation.get_supported_language_variant(code or "")
    except LookupError:
        return settings.LANGUAGE_CODE


def patient_of(user) -> Patient | None:
    """The user's Patient record (loaded with the user, see portal.backends), or None for staff and visitors."""
    if not user.is_authenticated:
        return None
    try:
        return user.patient
    except Patient.DoesNotExist:
        return None


def language_of(patient: Patient) -> str:
    """The language to address `patient` in: `translation.override(language_of(patient))` around an email or PDF."""
    return supported_language(patient.preferred_language)


@functools.cache
def _language_names() -> tuple[tuple[str, str], ...]:
    # Each language in its own words ("Español"), whatever language the page is in.
    return tuple((code, translation.get_language_info(code)["name_local"]) for code, _name in settings.LANGUAGES)


def language_switch(request) -> dict:
    """Context processor for the footer's switch: where it posts and the languages it offers."""
    view = "set-language" if patient_of(request.user) else "set_language"
    return {"language_switch": {"url": cached_reverse(view), "languages": _language_names()}}


@require_POST
@login_required
def set_language(request):
    """Save a signed-in patient's language on their record and go back to the page they were on.

    The record is what reminders, emails and PDFs read, so the choice follows the
    patient everywhere. The cookie is set too, so the page after logging out
    stays in the same language. Staff have no record: for them only the cookie changes.
    """
    language = supported_language(request.POST.get("language"))
    patient = patient_of(request.user)
    if patient is not None and patient.preferred_language != language:
        patient.preferred_language = language
        patient.save(update_fields=["preferred_language"])
    response = redirect(safe_next(request, cached_reverse("home")))
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )
    return response
