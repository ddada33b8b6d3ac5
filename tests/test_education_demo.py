"""Demo content: conditions, five published plain-language articles and a draft, the five published ones in
Spanish too; safe to load twice."""

import pytest
from django.core.management import call_command

from education.models import Article, Condition


@pytest.mark.django_db
def test_it_seeds_demo_articles_once(capsys):
    call_command("seed_demo")
    call_command("seed_demo")
    assert set(Condition.objects.values_list("slug", flat=True)) >= {"milia", "acne"}
    published = Article.objects.published()
    assert published.count() >= 4
    assert Article.objects.filter(status=Article.Status.DRAFT).count() >= 1
    assert Article.objects.filter(language="en").count() == 6
    assert Article.objects.filter(language="es").count() == 5
    for article in published:
        if article.language == "es":  # INFLESZ, higher is easier
            assert article.reading_ease is not None and article.reading_ease >= 55, article.title
        else:
            assert article.reading_grade is not None and article.reading_grade <= 8, article.title
        assert article.medical_reviewer.username == "demo-derm"
        assert article.history.count() == 1
    eyes = Article.objects.get(slug="glycolic-acid-and-retinol")
    assert "eye" in eyes.body_html and "every other evening" in eyes.body_html
    assert "SPF 30" in Article.objects.get(slug="daily-sunscreen").body_html
