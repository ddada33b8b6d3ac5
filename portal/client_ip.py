"""The client's network address, for login lockout, rate limits and the access log."""

from django.conf import settings
from ipware import get_client_ip


def client_ip(request) -> str:
    """The address the request came from.

    With TRUSTED_PROXY_COUNT reverse proxies in front (each appending to
    X-Forwarded-For, like nginx's `$proxy_add_x_forwarded_for`), it is the
    address the outermost proxy saw; entries the client put in front of it are
    ignored. A header with fewer entries than proxies is not ours, and
    REMOTE_ADDR (the nearest proxy) is used.
    """
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies:
        ip, _routable = get_client_ip(
            request,
            proxy_order="left-most",
            proxy_count=proxies - 1,  # proxies listed in the header besides the client: all but the nearest
            request_header_order=["HTTP_X_FORWARDED_FOR"],
            # Entries a client wrote in front of our proxies' are ignored, not a reason to fall back to
            # REMOTE_ADDR: that would put everyone who sends the header on the proxy's one address.
            strict=False,
        )
        if ip:
            return ip
    return request.META.get("REMOTE_ADDR") or ""
