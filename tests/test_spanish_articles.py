"""Articles in two languages: a Spanish article is its own row, reviewed on its own, linked to its English original.

A patient (rosa from the shared cast reads Spanish, alice English) reads the
published version in their language; until there is one, the English original
with a notice that it is not translated yet (the English marked lang="en").
Staff see which published English articles still lack a Spanish version.
"""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from education.models import Article
from education.rendering import count_spanish_syllables, szigriszt_pazos
from portal import handouts
from routines.models import Plan
from tests.admin_forms import management_form
from tests.factories import ArticleFactory, ConditionFactory
from tests.untranslated import english_left

NOTICE_ES = "Este artículo todavía no está traducido a su idioma, por eso se muestra en inglés."
MARK_ES = "En inglés: aún sin traducir"


@pytest.fixture
def milia(db):
    return ConditionFactory(name="Milia", slug="milia")


def publish(article, derm):
    article.publish(by=derm, today=dt.date(2026, 3, 3))
    return article


@pytest.fixture
def sunscreen(derm, milia):
    article = Article.objects.create(
        slug="daily-sunscreen",
        title="Daily sunscreen",
        summary="SPF 30 every morning.",
        body="Put on sunscreen with SPF 30 or higher every morning.",
    )
    article.conditions.set([milia])
    return publish(article, derm)


def spanish_of(original, *, slug="protector-solar", status=Article.Status.DRAFT, derm=None):
    article = Article.objects.create(
        slug=slug,
        title="Protector solar a diario",
        summary="FPS 30 cada mañana.",
        body="Póngase protector solar con FPS 30 o más todas las mañanas.",
        language="es",
        translation_of=original,
    )
    article.conditions.set(original.conditions.all())
    if status == Article.Status.PUBLISHED:
        publish(article, derm)
    return article


def listed(response) -> list[str]:
    return [article.title for _, articles in response.context["groups"] for article in articles]


def test_it_shows_a_spanish_patient_the_published_spanish_version(rosa_client, derm, sunscreen):
    spanish_of(sunscreen, status=Article.Status.PUBLISHED, derm=derm)

    library = rosa_client.get("/learn/")
    assert listed(library) == ["Protector solar a diario"]  # the topic once, in Spanish
    assert MARK_ES not in library.content.decode()
    assert english_left(library.content.decode()) == []

    # The English article's address leads a Spanish reader to the Spanish version.
    response = rosa_client.get("/learn/daily-sunscreen/")
    assert response.status_code == 302 and response["Location"] == "/learn/protector-solar/"
    page = rosa_client.get("/learn/protector-solar/").content.decode()
    assert '<article class="article" lang="es">' in page
    assert "Póngase protector solar" in page and NOTICE_ES not in page
    assert "Revisado médicamente por Dana el 3 de marzo de 2026" in page
    assert english_left(page) == []


def test_it_falls_back_to_english_with_a_notice_while_the_translation_is_a_draft(rosa_client, derm, sunscreen):
    draft = spanish_of(sunscreen)
    library = rosa_client.get("/learn/")
    assert listed(library) == ["Daily sunscreen"]
    html = library.content.decode()
    assert '<a class="fw-semibold" href="/learn/daily-sunscreen/" lang="en">Daily sunscreen</a>' in html
    assert MARK_ES in html and english_left(html) == []

    page = rosa_client.get("/learn/daily-sunscreen/")
    assert page.status_code == 200
    html = page.content.decode()
    assert '<article class="article" lang="en">' in html
    assert f'<p class="alert alert-info" lang="es">{NOTICE_ES}</p>' in html
    # Only the English article's own title remains, in <title> (which cannot carry a lang of its own).
    assert [text for text in english_left(html) if "Daily sunscreen" not in text] == []
    # The draft itself stays hidden from patients; in review is no better.
    assert rosa_client.get("/learn/protector-solar/").status_code == 404
    draft.submit_for_review(by=derm)
    assert listed(rosa_client.get("/learn/")) == ["Daily sunscreen"]


def test_it_leaves_the_english_patient_as_before(alice_client, derm, sunscreen):
    spanish_of(sunscreen, status=Article.Status.PUBLISHED, derm=derm)
    library = alice_client.get("/learn/")
    assert listed(library) == ["Daily sunscreen"]
    html = library.content.decode()
    assert '<a class="fw-semibold" href="/learn/daily-sunscreen/">Daily sunscreen</a>' in html
    assert "not translated" not in html
    page = alice_client.get("/learn/daily-sunscreen/").content.decode()
    assert '<article class="article" lang="en">' in page and "not been translated" not in page
    # The Spanish article's address still works: it leads an English reader to the English original.
    response = alice_client.get("/learn/protector-solar/")
    assert response.status_code == 302 and response["Location"] == "/learn/daily-sunscreen/"


def test_it_lets_staff_preview_each_language_at_its_own_address(derm_client, sunscreen):
    spanish_of(sunscreen)  # a draft
    page = derm_client.get("/learn/protector-solar/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200 and '<article class="article" lang="es">' in page.content.decode()


def test_it_resolves_the_plans_articles_to_the_patients_language(rosa_client, rosa, derm, sunscreen, milia):
    spanish_of(sunscreen, status=Article.Status.PUBLISHED, derm=derm)
    untranslated = ArticleFactory(slug="exfoliation")
    plan = Plan.objects.create(patient=rosa, name="Milia care", start_date=rosa.local_today())
    plan.articles.set([sunscreen, untranslated])  # plans link the English originals
    mine = rosa_client.get("/learn/").context["mine"]
    assert sorted(article.slug for article in mine) == ["exfoliation", "protector-solar"]


def test_it_prints_the_handout_in_the_patients_language(rosa_client, derm, sunscreen, monkeypatch):
    rendered = []
    monkeypatch.setattr(handouts, "render_pdf", lambda template, context: rendered.append(context) or b"%PDF-1.7")
    rosa_client.get("/learn/daily-sunscreen/handout.pdf")
    assert rendered[-1]["article"].slug == "daily-sunscreen" and rendered[-1]["not_translated"]
    assert rendered[-1]["language"] == "es"

    spanish_of(sunscreen, status=Article.Status.PUBLISHED, derm=derm)
    response = rosa_client.get("/learn/daily-sunscreen/handout.pdf")
    assert response.status_code == 200
    assert rendered[-1]["article"].slug == "protector-solar" and not rendered[-1]["not_translated"]


def test_it_renders_the_english_fallback_handout_with_the_notice_in_spanish(rosa_client, sunscreen, monkeypatch):
    html = []

    def render(template, context):
        from django.template.loader import render_to_string

        html.append(render_to_string(template, {"clinic_name": "Clinic", "page_size": "A4", **context}))
        return b"%PDF-1.7"

    monkeypatch.setattr(handouts, "render_pdf", render)
    rosa_client.get("/learn/daily-sunscreen/handout.pdf")
    assert '<html lang="es">' in html[0] and '<div lang="en">' in html[0] and NOTICE_ES in html[0]


def test_it_keeps_one_translation_per_language_and_links_only_originals(derm, sunscreen):
    spanish = spanish_of(sunscreen)
    second = Article(slug="otro", title="Otro", body="Otro texto.", language="es", translation_of=sunscreen)
    with pytest.raises(ValidationError, match="already has a translation"):
        second.full_clean()
    of_a_translation = Article(slug="x", title="X", body="X.", language="en", translation_of=spanish)
    with pytest.raises(ValidationError, match="original article"):
        of_a_translation.full_clean()
    same_language = Article(slug="y", title="Y", body="Y.", language="en", translation_of=sunscreen)
    with pytest.raises(ValidationError, match="another language"):
        same_language.full_clean()


def test_it_reviews_and_records_the_translation_on_its_own(derm, sunscreen):
    spanish = spanish_of(sunscreen)
    spanish.submit_for_review(by=derm)
    publish(spanish, derm)
    assert [copy.status for copy in spanish.history.order_by("history_date")] == ["draft", "in_review", "published"]
    assert sunscreen.history.count() == 2  # created, published: the translation's review never touched it
    assert spanish.medical_reviewer == derm and spanish.reviewed_on == dt.date(2026, 3, 3)


def test_it_measures_spanish_text_on_the_inflesz_scale():
    # "Use protector solar cada mañana. No toque los quistes del ojo."
    # Syllables: u-se 2, pro-tec-tor 3, so-lar 2, ca-da 2, ma-ña-na 3 | no 1, to-que 2, los 1,
    # quis-tes 2, del 1, o-jo 2 = 21 syllables, 11 words, 2 sentences.
    # Szigriszt-Pazos = 206.835 − 62.3 × 21/11 − 11/2 = 206.835 − 118.936 − 5.5 = 82.399 → 82.4
    assert szigriszt_pazos("<p>Use protector solar cada mañana. No toque los quistes del ojo.</p>") == 82.4
    # Syllables the hyphenation dictionary leaves joined: a-gua, le-er, dí-a; silent u in que; muy is one.
    assert [count_spanish_syllables(w) for w in ("agua", "leer", "día", "aplique", "muy", "pingüino")] == [
        2, 2, 2, 3, 1, 3,
    ]  # fmt: skip
    assert szigriszt_pazos("<p></p>") is None


def test_it_stores_the_spanish_score_and_flags_hard_spanish_text(db):
    easy = Article.objects.create(
        slug="facil", title="F", language="es", body="Use la crema cada noche. No toque los granos."
    )
    hard = Article.objects.create(
        slug="dificil",
        title="D",
        language="es",
        body="La hiperqueratinización folicular subepidérmica, característicamente asintomática, "
        "constituye manifestaciones dermatológicas extraordinariamente heterogéneas e independientes.",
    )
    english = Article.objects.create(slug="easy", title="E", body="Use it every day. It helps.")
    assert easy.reading_grade is None and easy.reading_ease >= Decimal("55") and not easy.above_target_grade
    assert hard.reading_ease < Decimal("40") and hard.above_target_grade
    assert english.reading_ease is None and english.reading_grade is not None


@pytest.mark.django_db
def test_it_shows_the_spanish_score_and_its_target_in_the_admin(derm_client):
    Article.objects.create(
        slug="facil", title="Fácil", language="es", body="Use la crema cada noche. No toque los granos."
    )
    page = derm_client.get("/admin/education/article/").content.decode()
    assert "INFLESZ" in page and "(target 55 or above)" in page


def test_it_filters_published_english_articles_by_their_spanish_translation(derm_client, derm, milia):
    def original(slug):
        return publish(Article.objects.create(slug=slug, title=slug.title(), body="Text."), derm)

    untranslated = original("untranslated")
    drafted = original("drafted")
    spanish_of(drafted, slug="borrador")
    reviewing = original("reviewing")
    spanish_of(reviewing, slug="en-revision").submit_for_review(by=derm)
    done = original("done")
    spanish_of(done, slug="hecho", status=Article.Status.PUBLISHED, derm=derm)
    Article.objects.create(slug="unpublished", title="Unpublished", body="Text.")  # not live: not listed

    def slugs(value):
        response = derm_client.get("/admin/education/article/", {"spanish": value})
        assert response.status_code == 200
        return sorted(article.slug for article in response.context["cl"].result_list)

    assert slugs("missing") == ["drafted", "untranslated"]
    assert slugs("in_review") == ["reviewing"]
    assert slugs("published") == ["done"]
    page = derm_client.get("/admin/education/article/", {"spanish": "missing"}).content.decode()
    assert f"/admin/education/article/add/?translation_of={untranslated.pk}&amp;language=es" in page
    assert "Missing" in page
    assert f"?translation_of={drafted.pk}" not in page  # it has a draft: the column links to that instead


def test_it_files_a_new_translation_under_its_originals_conditions(derm_client, derm, sunscreen, milia):
    response = derm_client.post(
        "/admin/education/article/add/",
        {
            "title": "Protector solar",
            "slug": "protector-solar",
            "summary": "",
            "body": "Póngase protector solar cada mañana.",
            "language": "es",
            "translation_of": sunscreen.pk,
            **management_form("questions", 0),
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    spanish = Article.objects.get(slug="protector-solar")
    assert spanish.translation_of == sunscreen and list(spanish.conditions.all()) == [milia]
    assert spanish.status == Article.Status.DRAFT and spanish.author == derm


def test_it_finds_a_spanish_article_by_a_spanish_word(rosa_client, derm, sunscreen):
    spanish_of(sunscreen, status=Article.Status.PUBLISHED, derm=derm)
    # On PostgreSQL through the Spanish configuration ("mañana" and "mañanas" share a stem), elsewhere a substring.
    assert listed(rosa_client.get("/learn/", {"q": "mañana"})) == ["Protector solar a diario"]
    assert listed(rosa_client.get("/learn/", {"q": "Póngase"})) == ["Protector solar a diario"]
    if connection.vendor == "postgresql":
        assert listed(rosa_client.get("/learn/", {"q": "pongan"})) == ["Protector solar a diario"]
