"""seed_demo's Spanish side: demo-paciente and the Spanish articles, loaded once however often it runs."""

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from education.models import Article
from portal.models import Patient
from routines.models import Plan
from tests.untranslated import english_left

SPANISH_SLUGS = {
    "milia-y-acne",
    "exfoliar-con-cuidado",
    "acido-glicolico-y-retinol",
    "protector-solar-diario",
    "crema-hidratante-de-noche",
}


@pytest.fixture
def seeded(db):
    call_command("seed_demo")
    call_command("seed_demo")  # idempotent: the second run changes nothing


def test_it_creates_demo_paciente_as_the_spec_says(seeded):
    user = get_user_model().objects.get(username="demo-paciente")
    assert user.check_password("demo-pass-2026") and user.email == "demo-paciente@example.org"
    assert not user.is_staff
    patient = Patient.objects.get(user=user)
    assert patient.preferred_language == "es" and patient.time_zone == "America/New_York"
    assert patient.email_consent
    assert (patient.morning_reminder_time, patient.evening_reminder_time) == (dt.time(7, 30), dt.time(21, 0))
    (plan,) = Plan.objects.filter(patient=patient)
    assert plan.template.name == "Milia care" and plan.status == Plan.Status.ACTIVE
    assert plan.start_date == patient.local_today() - dt.timedelta(days=10) and plan.end_date is None
    assert plan.steps.count() == plan.template.steps.count()


def test_it_stays_idempotent(seeded):
    counts = (get_user_model().objects.count(), Patient.objects.count(), Plan.objects.count(), Article.objects.count())
    call_command("seed_demo")
    assert counts == (
        get_user_model().objects.count(),
        Patient.objects.count(),
        Plan.objects.count(),
        Article.objects.count(),
    )
    assert Plan.objects.filter(patient__user__username="demo-paciente").count() == 1


def test_it_publishes_the_milia_article_and_three_more_in_spanish(seeded):
    spanish = Article.objects.filter(language="es")
    assert set(spanish.values_list("slug", flat=True)) == SPANISH_SLUGS
    for article in spanish:
        assert article.is_published and article.medical_reviewer.username == "demo-derm"
        assert article.translation_of is not None and article.translation_of.language == "en"
        assert article.translation_of.is_published
        assert set(article.conditions.all()) == set(article.translation_of.conditions.all())
        assert article.reading_grade is None and not article.above_target_grade, article.slug
        assert article.history.count() == 1
    milia = Article.objects.get(slug="milia-y-acne")
    assert milia.translation_of.slug == "milia-vs-acne"
    assert "acné" in milia.body_html and "párpados" in milia.body_html
    glycolic = Article.objects.get(slug="acido-glicolico-y-retinol").body_html
    assert "una noche sí y otra no" in glycolic and "diez minutos" in glycolic and "ojos" in glycolic
    assert "FPS 30" in Article.objects.get(slug="protector-solar-diario").body_html
    # The plans link the English originals only: a Spanish reader gets each one's translation.
    plan = Plan.objects.get(patient__user__username="demo-paciente")
    assert not plan.articles.filter(language="es").exists()


def test_demo_paciente_reads_the_library_and_articles_in_spanish(seeded, client):
    client.force_login(get_user_model().objects.get(username="demo-paciente"))
    library = client.get("/learn/")
    assert library.status_code == 200
    assert {article.slug for article in library.context["mine"]} == SPANISH_SLUGS
    assert english_left(library.content.decode()) == []
    for slug in sorted(SPANISH_SLUGS):
        page = client.get(f"/learn/{slug}/")
        assert page.status_code == 200
        html = page.content.decode()
        assert '<html lang="es">' in html and '<article class="article" lang="es">' in html
        assert english_left(html) == [], slug
    # The English milia article's address brings her to the Spanish one.
    assert client.get("/learn/milia-vs-acne/")["Location"] == "/learn/milia-y-acne/"
