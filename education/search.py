"""Article search: PostgreSQL's full-text search in each article's own language, a substring match elsewhere.

On PostgreSQL an article is searched with the text-search configuration of
its language (English stems "exfoliating" to "exfoli", Spanish "párpados" to
"parp"), through one GIN index per language (`search_indexes`, declared on
`Article.Meta`), so a search reads the index instead of every article's text.
Each word the patient types matches as a prefix ("exfol" finds "exfoliation"),
and every word must match. SQLite (development, tests) has no such search: a
case-insensitive substring match stands in. On both, a condition whose name
contains the query brings its articles too.
"""

import re

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchQuery, SearchVector
from django.db import connections
from django.db.models import Q

# Article language → PostgreSQL text-search configuration.
CONFIGS = {"en": "english", "es": "spanish"}


def document(config: str) -> SearchVector:
    """What is searched, as one tsvector. The GIN indexes are built on exactly this expression."""
    return SearchVector("title", "summary", "body", config=config)


def search_indexes() -> list[GinIndex]:
    """One partial GIN index per language (PostgreSQL only: see the migration that adds them)."""
    return [
        GinIndex(document(config), condition=Q(language=language), name=f"article_search_{language}")
        for language, config in CONFIGS.items()
    ]


def prefix_query(text: str) -> str:
    """The patient's words as a tsquery of prefixes that must all match ("" if no words).

    Built from word characters only, so nothing typed can break the query's syntax.
    """
    return " & ".join(f"{word}:*" for word in re.findall(r"\w+", text))


def matching(articles, text: str):
    """`articles` whose text or condition names match `text` (all of them for an empty `text`).

    Filtered by id, not `.distinct()`, so callers can still order, slice and prefetch freely.
    """
    text = text.strip()
    if not text:
        return articles
    Article = articles.model
    by_condition = Article.conditions.through.objects.filter(condition__name__icontains=text).values("article_id")
    if connections[articles.db].vendor != "postgresql":
        by_text = articles.filter(Q(title__icontains=text) | Q(summary__icontains=text) | Q(body__icontains=text))
        return articles.filter(Q(pk__in=by_text.values("pk")) | Q(pk__in=by_condition))
    words = prefix_query(text)
    if not words:
        return articles.filter(pk__in=by_condition)
    by_language = Q(pk__in=[])
    for language, config in CONFIGS.items():
        # The same expression and condition as the language's index, so the index answers it.
        vector = f"search_{language}"
        matches = Article.objects.annotate(**{vector: document(config)}).filter(
            Q(language=language), **{vector: SearchQuery(words, config=config, search_type="raw")}
        )
        by_language |= Q(pk__in=matches.values("pk"))
    return articles.filter(by_language | Q(pk__in=by_condition))
