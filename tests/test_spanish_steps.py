"""A Spanish reader's steps, plan name and note in Spanish wherever the clinic wrote them (English where it
did not, never blank): the today page, /plan/, the printable page and the plan PDF, whoever prints it."""

import datetime as dt
import io

import pytest
from pypdf import PdfReader

from portal.models import Patient
from reminders import planning, sending
from routines import schedule
from tests.factories import (
    TODAY,
    ArticleFactory,
    PlanFactory,
    PlanStepFactory,
    ProcedureFactory,
    ProcedureTypeFactory,
    ProductFactory,
    utc,
)

pytestmark = pytest.mark.usefixtures("frozen")


def bilingual_plan(patient):
    plan = PlanFactory(
        patient=patient,
        name="Milia care",
        name_es="Cuidado de los milia",
        note="Never squeeze them.",
        note_es="No los apriete nunca.",
        steps=0,
    )
    PlanStepFactory(
        plan=plan,
        order=1,
        slot=schedule.EVENING,
        product=ProductFactory(name="Bioclear Serum"),
        instructions="Apply a thin layer.",
        instructions_es="Aplique una capa fina.",
        caution="Keep away from the eyes.",
        caution_es="Lejos de los ojos.",
        area="face",
        area_es="cara",
    )
    # No product: the instructions are the step's title. No Spanish written: the English shows.
    PlanStepFactory(plan=plan, order=2, product=None, instructions="Drink water", instructions_es="Beba agua", area="")
    PlanStepFactory(plan=plan, order=3, product=ProductFactory(name="Gentle Moisturizer"), instructions="Smooth it on.")
    return plan


def test_it_shows_the_today_page_in_spanish_with_english_where_none_is_written(rosa_client, rosa):
    bilingual_plan(rosa)
    page = rosa_client.get("/").content.decode()
    for spanish in ("Cuidado de los milia", "Aplique una capa fina.", "Lejos de los ojos.", "Beba agua"):
        assert spanish in page
    assert "Smooth it on." in page  # no Spanish written: the English, never blank
    for english in ("Apply a thin layer.", "Keep away from the eyes.", "Drink water", "Milia care"):
        assert english not in page


@pytest.mark.parametrize("path", ["/plan/", "/plan/print/"])
def test_it_shows_the_whole_plan_in_spanish(rosa_client, rosa, path):
    bilingual_plan(rosa)
    page = rosa_client.get(path).content.decode()
    for spanish in ("Cuidado de los milia", "No los apriete nunca.", "Aplique una capa fina.", "· cara", "Beba agua"):
        assert spanish in page
    for english in ("Never squeeze them.", "Apply a thin layer.", "Drink water"):
        assert english not in page


def test_it_leaves_the_english_patients_plan_in_english(alice_client, alice):
    bilingual_plan(alice)
    page = alice_client.get("/plan/").content.decode()
    for english in ("Milia care", "Never squeeze them.", "Apply a thin layer.", "Keep away from the eyes.", "· face"):
        assert english in page
    assert "Aplique" not in page and "Cuidado de los milia" not in page


def pdf_text(response) -> str:
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)


@pytest.mark.parametrize("who", ["rosa", "desk"])
def test_it_prints_the_plan_pdf_in_the_patients_language_whoever_prints_it(client, rosa, desk, who):
    bilingual_plan(rosa)
    client.force_login(rosa.user if who == "rosa" else desk)
    url = "/plan/handout.pdf" if who == "rosa" else f"/handouts/patients/{rosa.pk}/plan.pdf"
    text = pdf_text(client.get(url, HTTP_ACCEPT_LANGUAGE="en"))
    for spanish in ("Cuidado de los milia", "No los apriete nunca.", "Aplique una capa fina.", "Lejos de los ojos."):
        assert spanish in text
    assert "10 de marzo de 2027" in text and "Precaución" in text
    assert "Apply a thin layer." not in text and "Caution" not in text


def test_the_front_desk_pages_stay_in_english_after_a_spanish_pdf(desk_client, rosa):
    bilingual_plan(rosa)
    desk_client.get(f"/handouts/patients/{rosa.pk}/plan.pdf")
    assert '<html lang="en"' in desk_client.get("/admin/").content.decode()


def test_it_reads_the_spanish_plans_articles_in_one_query(rosa_client, rosa, django_assert_max_num_queries):
    plan = bilingual_plan(rosa)
    originals = [ArticleFactory(slug=f"article-{n}", title=f"Article {n}") for n in range(3)]
    for original in originals[:2]:
        ArticleFactory(
            slug=f"{original.slug}-es", title=f"Artículo {original.slug}", language="es", translation_of=original
        )
    plan.articles.set(originals)
    rosa_client.get("/plan/")
    with django_assert_max_num_queries(7):  # as many as an English reader's /plan/
        page = rosa_client.get("/plan/").content.decode()
    assert 'href="/learn/article-0-es/"' in page and 'href="/learn/article-1-es/"' in page
    assert 'href="/learn/article-2/"' in page  # not translated: the English
    assert 'href="/learn/article-0/"' not in page


def test_a_spanish_reader_reads_the_procedures_spanish_name_in_its_pause(client, rosa, alice):
    peel = ProcedureTypeFactory(name="Chemical peel", name_es="Peeling químico", stops_categories="retinoid")
    for patient in (rosa, alice):
        PlanStepFactory(
            plan=PlanFactory(patient=patient, steps=0), order=1, product=ProductFactory(category="retinoid")
        )
        ProcedureFactory(patient=patient, type=peel, date=TODAY + dt.timedelta(days=2))
    client.force_login(rosa.user)
    assert "peeling químico" in client.get("/").content.decode()
    client.force_login(alice.user)
    english = client.get("/").content.decode()
    assert "chemical peel" in english and "químico" not in english


def test_a_spanish_readers_reminder_names_her_steps_in_spanish(rosa, mailoutbox):
    """A step without a product is named by its instructions: hers, in the Spanish the clinic wrote."""
    Patient.objects.filter(pk=rosa.pk).update(email_consent=True, weekly_digest=False)
    steps = [dict(slot=schedule.MORNING, instructions="Drink water", instructions_es="Beba agua")]
    PlanFactory(patient=rosa, steps=steps)
    planning.plan_reminders(now=utc(2027, 3, 11, 13, 0))
    sending.send_due(now=utc(2027, 3, 11, 13, 1))
    (email,) = mailoutbox
    assert "Beba agua" in email.body and "Drink water" not in email.body
