"""`reverse()`, remembered: for the fixed links that the busiest pages render on every visit."""

import functools

from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse


def cached_reverse(name: str, *args) -> str:
    """`reverse(name, args=args)`, computed once per process for each URLconf and script prefix.

    Django's `reverse` costs about 60 µs a call. The header's five links alone
    were 3% of the today page's CPU. A URL only changes with the URLconf or the
    prefix the app is mounted under, so both are part of the cache key.
    """
    return _reverse(name, args, get_urlconf() or settings.ROOT_URLCONF, get_script_prefix())


@functools.lru_cache(maxsize=128)
def _reverse(name: str, args: tuple, urlconf: str, script_prefix: str) -> str:
    # `reverse` reads the script prefix itself; it is an argument only to key the cache.
    return reverse(name, args=args, urlconf=urlconf)
