"""`reverse()`, remembered: for the fixed links (no arguments) that every page's header and footer render."""

import functools

from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse


def cached_reverse(name: str) -> str:
    """`reverse(name)`, computed once per process for each URLconf and script prefix.

    A URL without arguments only changes with the URLconf or the prefix the app
    is mounted under, so both are part of the cache key.
    """
    return _reverse(name, get_urlconf() or settings.ROOT_URLCONF, get_script_prefix())


@functools.lru_cache(maxsize=128)
def _reverse(name: str, urlconf: str, script_prefix: str) -> str:
    # `reverse` reads the script prefix itself; it is an argument only to key the cache.
    return reverse(name, urlconf=urlconf)
