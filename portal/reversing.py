"""`reverse()`, remembered: for links every page renders, the header's and footer's and each step's "Why?"."""

import functools

from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse


def cached_reverse(name: str, *args: str | int) -> str:
    """`reverse(name, args=args)`, computed once per process for each set of arguments, URLconf and script prefix.

    A URL only changes with its arguments, the URLconf or the prefix the app is mounted
    under, so all are part of the cache key (the cache keeps the 1,024 most recent).
    """
    return _reverse(name, args, get_urlconf() or settings.ROOT_URLCONF, get_script_prefix())


@functools.lru_cache(maxsize=1024)
def _reverse(name: str, args: tuple, urlconf: str, script_prefix: str) -> str:
    # `reverse` reads the script prefix itself; it is an argument only to key the cache.
    return reverse(name, args=args, urlconf=urlconf)
