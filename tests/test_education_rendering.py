"""Article bodies are untrusted: nothing executable or raw HTML reaches a page; the grade is measured."""

from decimal import Decimal
from pathlib import Path

import pytest

from education.rendering import flesch_kincaid_grade, render_markdown
from tests.factories import ArticleFactory

HOSTILE_BODY = """\
## Safe heading

<script>alert("stolen")</script>

A paragraph with <img src="x" onerror="alert(1)"> an image that errors.

[Click me](javascript:alert(document.cookie)) and [our site](https://clinic.example.org/).

<div class="evil" style="position:fixed">raw block html</div>

Inline <span onclick="alert(2)">span</span> and <iframe src="https://evil.example"></iframe>.

![remote tracker](https://evil.example/pixel.png) ![ours](/static/img/diagram.png)
"""


def test_it_renders_none_of_the_hostile_markup():
    html = render_markdown(HOSTILE_BODY).lower()
    for banned in (
        "<script",
        'alert("stolen',
        "onerror",
        "onclick",
        "javascript:",
        "<div",
        "<span",
        "<iframe",
        "style=",
    ):
        assert banned not in html, banned
    assert "<h2>safe heading</h2>" in html
    assert '<a href="https://clinic.example.org/" rel="noopener noreferrer">our site</a>' in html


def test_it_only_keeps_images_from_our_own_static_files():
    html = render_markdown(HOSTILE_BODY)
    assert 'src="/static/img/diagram.png"' in html
    assert "evil.example" not in html


def test_it_keeps_markdown_structure():
    html = render_markdown(
        "# Title\n\n- one\n- **two**\n\n| a | b |\n|---|--:|\n| 1 | 2 |\n\n[mail](mailto:x@example.org)"
    )
    assert "<li><strong>two</strong></li>" in html
    assert "<table>" in html and '<td align="right">2</td>' in html
    assert 'href="mailto:x@example.org"' in html


@pytest.mark.django_db
def test_it_renders_once_on_save_and_the_page_shows_the_sanitised_html(alice_client):
    article = ArticleFactory(body=HOSTILE_BODY)
    assert "onerror" not in article.body_html and "<h2>Safe heading</h2>" in article.body_html

    response = alice_client.get(article.get_absolute_url())
    assert response.status_code == 200
    page = response.content.decode().lower()
    assert "<h2>safe heading</h2>" in page
    assert "onerror" not in page and "javascript:alert" not in page and 'alert("stolen' not in page


@pytest.mark.django_db
def test_it_rerenders_when_the_body_changes():
    article = ArticleFactory(body="First **version**.")
    article.body = "Second _version_."
    article.save(update_fields=["body"])
    article.refresh_from_db()
    assert "<em>version</em>" in article.body_html


@pytest.mark.django_db
def test_it_computes_the_reading_grade_on_save():
    easy = ArticleFactory(slug="easy", body="Milia are small bumps. They are not acne. Do not squeeze them.")
    hard = ArticleFactory(
        slug="hard",
        body=(
            "Milia constitute keratinaceous epidermal inclusion cysts, ordinarily originating consequent to "
            "localized impairment of physiological desquamation, and characteristically demonstrate "
            "considerable therapeutic recalcitrance notwithstanding conventional comedone extraction."
        ),
    )
    assert easy.reading_grade is not None and easy.reading_grade <= Decimal("6")
    assert hard.reading_grade > Decimal("12")
    assert hard.above_target_grade and not easy.above_target_grade


def test_it_treats_headings_and_list_items_as_sentences():
    # Without this, a list of ten items would read as one endless sentence.
    listed = flesch_kincaid_grade(render_markdown("- " + "\n- ".join(["wash your face gently"] * 10)))
    run_on = flesch_kincaid_grade("<p>" + " ".join(["wash your face gently"] * 10) + "</p>")
    assert listed < run_on


def test_it_has_no_grade_for_an_empty_body():
    assert flesch_kincaid_grade(render_markdown("")) is None


def test_it_grades_the_clinics_original_milia_article_above_the_patient_target():
    seed = Path(__file__).resolve().parents[2] / "shared" / "seeds" / "milia-article.txt"
    if not seed.exists():
        pytest.skip("seed article not available")
    assert flesch_kincaid_grade(render_markdown(seed.read_text())) > 8
