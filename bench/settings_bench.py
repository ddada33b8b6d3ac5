"""The portal's own settings plus one bare view to compare against (bench/urls_bench.py)."""

from portal.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls_bench"
