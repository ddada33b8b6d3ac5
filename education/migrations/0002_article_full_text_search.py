"""Full-text search indexes for articles, one per language (see education/search.py).

GIN indexes over tsvectors exist on PostgreSQL only: elsewhere (SQLite in
development and tests) the operations record the indexes in the migration
state, so `makemigrations` stays quiet, and create nothing; search there is a
substring match.
"""

import django.contrib.postgres.indexes
import django.contrib.postgres.search
from django.db import migrations, models


class AddIndexOnPostgreSQL(migrations.AddIndex):
    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


class Migration(migrations.Migration):
    dependencies = [
        ("education", "0001_initial"),
    ]

    operations = [
        AddIndexOnPostgreSQL(
            model_name="article",
            index=django.contrib.postgres.indexes.GinIndex(
                django.contrib.postgres.search.SearchVector("title", "summary", "body", config="english"),
                condition=models.Q(("language", "en")),
                name="article_search_en",
            ),
        ),
        AddIndexOnPostgreSQL(
            model_name="article",
            index=django.contrib.postgres.indexes.GinIndex(
                django.contrib.postgres.search.SearchVector("title", "summary", "body", config="spanish"),
                condition=models.Q(("language", "es")),
                name="article_search_es",
            ),
        ),
    ]
