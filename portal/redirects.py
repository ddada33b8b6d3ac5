from urllib.parse import urlsplit, urlunsplit

from django.utils.http import url_has_allowed_host_and_scheme


def safe_next(request, fallback: str) -> str:
    """The local path (and query) named by the request's `next`, else `fallback`.

    `next` comes back from a hidden form field anyone can edit. Passed whole to
    redirect(), a value such as "#x" or "?x" is taken for a URL name (a 500 after
    the change was saved) and "//host" leaves the site. So the value is split and
    rebuilt from its path and query alone, and only a path starting with a single
    "/" is returned; the fragment is dropped (callers add their own).
    """
    value = request.POST.get("next", request.GET.get("next", ""))
    if not url_has_allowed_host_and_scheme(value, {request.get_host()}, require_https=request.is_secure()):
        return fallback
    try:
        parts = urlsplit(value)
    except ValueError:  # e.g. "http://[::1", an unclosed IPv6 host
        return fallback
    path = parts.path
    # Browsers read a backslash as a slash, so "/\host" is "//host": another site.
    if parts.scheme or parts.netloc or not path.startswith("/") or path.replace("\\", "/").startswith("//"):
        return fallback
    return urlunsplit(("", "", path, parts.query, ""))
