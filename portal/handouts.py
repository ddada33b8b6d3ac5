"""Printed handouts: HTML templates under templates/handouts/ rendered to PDF.

Article bodies are written by staff and so are untrusted input to WeasyPrint:
the URL fetcher below serves only our own static and media files, so a handout
can never make the server read other local files or reach the network
(WeasyPrint's advice after CVE-2025-68616).
"""

import functools
import mimetypes
from pathlib import Path
from urllib.parse import unquote, urlsplit

import segno
from django.conf import settings
from django.http import HttpResponse, HttpResponseBadRequest
from django.template.loader import render_to_string
from django.utils.text import slugify
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

INTERNAL_BASE = "https://handout.invalid"


class HandoutFetchRefused(Exception):
    pass


def _allowed_roots() -> list[Path]:
    roots = [settings.STATIC_ROOT, settings.MEDIA_ROOT, *settings.STATICFILES_DIRS]
    return [Path(root).resolve() for root in roots]


def _local_file(url: str) -> Path | None:
    """Map an internal /static/ or /media/ URL to a file inside our own folders, else None."""
    parts = urlsplit(url)
    if f"{parts.scheme}://{parts.netloc}" != INTERNAL_BASE:
        return None
    path = unquote(parts.path)
    for prefix in (settings.STATIC_URL, settings.MEDIA_URL):
        if path.startswith(prefix):
            relative = path.removeprefix(prefix)
            for root in _allowed_roots():
                candidate = (root / relative).resolve()
                if candidate.is_relative_to(root) and candidate.is_file():
                    return candidate
    return None


class LocalOnlyFetcher(URLFetcher):
    """Serves our static and media files; refuses everything else (file:, http:, data: included)."""

    def fetch(self, url, headers=None):
        local = _local_file(url)
        if local is None:
            raise HandoutFetchRefused(f"Handouts may only use the portal's own static files, not {url[:80]!r}")
        mime, _ = mimetypes.guess_type(local.name)
        return URLFetcherResponse(url, local.read_bytes(), {"Content-Type": mime or "application/octet-stream"})


def qr_svg(url: str) -> str:
    """An inline SVG QR code for `url` (safe to mark_safe: segno writes it)."""
    return segno.make(url, error="m").svg_inline(scale=3, dark="#000", light="#fff")


def portal_url(path: str) -> str:
    return f"{settings.PORTAL_BASE_URL}{path}"


def render_pdf(template_name: str, context: dict) -> bytes:
    context = {
        "clinic_name": settings.CLINIC_NAME,
        "clinic_phone": settings.CLINIC_PHONE,
        "page_size": settings.HANDOUT_PAGE_SIZE,
        **context,
    }
    html = render_to_string(template_name, context)
    return HTML(string=html, base_url=f"{INTERNAL_BASE}/", url_fetcher=LocalOnlyFetcher()).write_pdf()


def pdf_response(pdf: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{slugify(filename) or "handout"}.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response


# Fetch Metadata destinations of a page's sub-resources: an <img>, <script> or stylesheet
# pointing at a print URL is not someone printing, and must not be logged as one.
SUBRESOURCE_DESTINATIONS = frozenset(
    {"image", "script", "style", "font", "audio", "video", "track", "manifest", "worker", "sharedworker", "xslt"}
)


def printout(view):
    """For print pages and PDFs: GET or HEAD only, never cached, and refused as a page's sub-resource.

    Such a view changes nothing but the AccessLog row of a real print (a HEAD writes none).
    """

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.headers.get("Sec-Fetch-Dest", "") in SUBRESOURCE_DESTINATIONS:
            return HttpResponseBadRequest("Handouts cannot be embedded in another page.")
        return view(request, *args, **kwargs)

    return require_safe(never_cache(wrapper))
