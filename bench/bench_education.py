"""Education benchmark: PDF handout render time and /learn/ throughput.

    .venv/bin/python bench/bench_education.py [--articles 100] [--seconds 5]

Builds a throwaway SQLite database in a temporary folder (your var/ is not
touched), loads the demo data with `seed_demo`, then measures:

1. the PDF handout of the longest published demo article: median of 10
   renders (after one warm-up render that loads fonts), through the same code
   the views use (template, QR code, WeasyPrint);
2. /learn/ requests per second for the logged-in demo patient, served by
   Django's test client in this process (full middleware and template
   rendering, no network or WSGI server), with the demo library and again with
   `--articles` extra published articles, to show the page does not slow down
   per article in the database (its query count is constant).

Templates use the cached loader, as in production.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def setup_django(tmp: Path) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "portal.settings"
    os.environ["DEBUG"] = "1"  # development static files (no collectstatic manifest needed)
    os.environ["VAR_DIR"] = str(tmp)
    os.environ["DATABASE_URL"] = f"sqlite:///{tmp / 'bench.sqlite3'}"
    os.environ["EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"
    import django

    django.setup()


def production_like_settings():
    from django.conf import settings
    from django.test.utils import override_settings

    templates = [{**settings.TEMPLATES[0], "APP_DIRS": False}]
    templates[0]["OPTIONS"] = {
        **templates[0]["OPTIONS"],
        "loaders": [
            (
                "django.template.loaders.cached.Loader",
                ["django.template.loaders.filesystem.Loader", "django.template.loaders.app_directories.Loader"],
            )
        ],
    }
    return override_settings(DEBUG=False, TEMPLATES=templates)


def bench_pdf(runs: int = 10) -> tuple[str, int, float, list[float]]:
    from education.models import Article
    from education.views import _handout_response

    article = max(Article.objects.published().select_related("medical_reviewer"), key=lambda a: len(a.body))
    _handout_response(article)  # warm-up: fonts, template compile
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        response = _handout_response(article)
        timings.append(time.perf_counter() - start)
    return article.title, len(response.content), statistics.median(timings), timings


def bench_learn(seconds: float) -> tuple[float, int, int]:
    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client()
    client.force_login(get_user_model().objects.get(username="demo-patient"))
    assert client.get("/learn/").status_code == 200
    count, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        response = client.get("/learn/")
        assert response.status_code == 200
        count += 1
    return count / elapsed, count, len(response.content)


def add_articles(n: int) -> None:
    from education.demo import MILIA_VS_ACNE
    from education.models import Article, Condition

    conditions = list(Condition.objects.all())
    for i in range(n):
        article = Article.objects.create(
            slug=f"bench-{i}", title=f"Bench article {i}", summary="Filler", body=MILIA_VS_ACNE, status="published"
        )
        article.conditions.set(conditions[i % len(conditions) :][:1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=100, help="extra published articles for the second /learn/ run")
    parser.add_argument("--seconds", type=float, default=5.0, help="duration of each /learn/ run")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-education-") as tmp:
        setup_django(Path(tmp))
        from django.core.management import call_command
        from django.db import connection

        call_command("migrate", verbosity=0)
        call_command("seed_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
        print(f"Python {sys.version.split()[0]}, SQLite {connection.Database.sqlite_version}, {os.cpu_count()} CPUs")

        with production_like_settings():
            title, size, median, timings = bench_pdf()
            print(f"PDF handout, longest demo article ({title!r}, {size / 1024:.0f} KiB):")
            low, high = min(timings) * 1000, max(timings) * 1000
            print(f"  median of 10 renders: {median * 1000:.0f} ms (min {low:.0f}, max {high:.0f})")

            from education.models import Article

            for label in ("demo library", f"+{args.articles} articles"):
                if label.startswith("+"):
                    add_articles(args.articles)
                published = Article.objects.published().count()
                rps, count, page_size = bench_learn(args.seconds)
                print(
                    f"/learn/ ({label}: {published} published), Django test client, one process: "
                    f"{rps:.0f} requests/s ({count} requests, page {page_size / 1024:.0f} KiB)"
                )
        connection.close()


if __name__ == "__main__":
    main()
