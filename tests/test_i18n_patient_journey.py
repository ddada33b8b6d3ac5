"""demo-paciente's whole journey is in Spanish: pages, reminder email and SMS, calendar feed, plan PDF.

`english_left` / `english_lines` (tests/untranslated.py) fail on interface text
left in English. Product names ("Bioclear Serum") are names, not interface text.
"""

import datetime as dt

import icalendar
import pytest
from django.core.management import call_command
from django.utils import timezone

from portal.models import Patient
from reminders import planning, sending
from reminders.models import Reminder
from tests.untranslated import english_left, english_lines


@pytest.fixture
def paciente(db):
    call_command("seed_demo")
    return Patient.objects.select_related("user").get(user__username="demo-paciente")


@pytest.fixture
def paciente_client(client, paciente):
    client.force_login(paciente.user)
    return client


def spanish_page(response) -> str:
    assert response.status_code == 200
    page = response.content.decode()
    assert '<html lang="es">' in page
    return page


def next_reminder(patient: Patient, slot: str) -> Reminder:
    planning.plan_reminders(now=timezone.now(), patient_ids=[patient.pk])
    return Reminder.objects.filter(patient=patient, slot=slot, channel="email").order_by("due_at").first()


def test_it_shows_the_reminder_settings_in_spanish(paciente_client):
    page = spanish_page(paciente_client.get("/reminders/"))
    assert "Enviarme recordatorios por correo electrónico" in page
    assert english_left(page) == []


@pytest.mark.parametrize("slot, opening", [("morning", "Su rutina de la mañana"), ("evening", "Su rutina de la noche")])
def test_it_sends_her_reminder_email_in_spanish(paciente, mailoutbox, slot, opening):
    reminder = next_reminder(paciente, slot)
    sending.send_due(now=reminder.due_at)
    (email,) = [m for m in mailoutbox if m.to == ["demo-paciente@example.org"]]
    assert email.subject.startswith(opening)
    assert email.body.startswith(f"Hola, Paciente. {opening}") or opening in email.body
    assert english_lines(email.subject + "\n" + email.body) == []
    html = email.alternatives[0][0]
    assert '<html lang="es">' in html and english_left(html) == []


def test_it_writes_her_sms_in_spanish(paciente):
    reminder = next_reminder(paciente, "evening")
    reminder.channel = Reminder.Channel.SMS
    paciente.phone = "+15550102030"
    steps = reminder.plan.steps_due_on(reminder.local_date)["evening"]
    message = sending.build_message(reminder, steps=steps, hidden_words=["Milia", "Acne"])
    assert "Su rutina de la noche" in message.text
    assert english_lines(message.text) == []


def test_it_hides_a_condition_in_a_spanish_step_label(paciente):
    reminder = next_reminder(paciente, "morning")
    steps = reminder.plan.steps_due_on(reminder.local_date)["morning"]
    message = sending.build_message(reminder, steps=steps, hidden_words=["Sunscreen", "Cleanser"])
    assert "Paso 1 de su rutina" in message.text and english_lines(message.text) == []


def test_it_keeps_the_english_patients_reminder_in_english(paciente, mailoutbox):
    patient = Patient.objects.get(user__username="demo-patient")
    reminder = next_reminder(patient, "morning")
    sending.send_due(now=reminder.due_at)
    (email,) = [m for m in mailoutbox if m.to == [patient.user.email]]
    assert email.subject.startswith("Your morning routine: ")


def test_it_writes_her_calendar_events_in_spanish(client, paciente):
    response = client.get(f"/reminders/calendar/{paciente.calendar_token}.ics", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    calendar = icalendar.Calendar.from_ical(response.content)
    events = list(calendar.walk("VEVENT"))
    assert {str(event["summary"]) for event in events} == {
        "Rutina de la mañana para su piel",
        "Rutina de la noche para su piel",
    }
    for event in events:
        description = str(event["description"])
        assert description.startswith(("Sus pasos de la mañana:", "Sus pasos de la noche:"))
        assert "todas las" in description or "una noche sí y otra no" in description
        assert english_lines(description) == []
    assert str(calendar["x-wr-calname"]) == "Rutina de cuidado de la piel"


def test_it_keeps_the_english_patients_calendar_in_english(client, paciente):
    patient = Patient.objects.get(user__username="demo-patient")
    response = client.get(f"/reminders/calendar/{patient.calendar_token}.ics", HTTP_ACCEPT_LANGUAGE="es")
    summaries = {str(e["summary"]) for e in icalendar.Calendar.from_ical(response.content).walk("VEVENT")}
    assert summaries == {"Morning skin care routine", "Evening skin care routine"}


def test_it_asks_before_unsubscribing_in_her_language(client, paciente):
    token = sending.unsubscribe_token(paciente, "email")
    page = spanish_page(client.get(f"/reminders/unsubscribe/{token}/", HTTP_ACCEPT_LANGUAGE="en"))
    assert english_left(page) == []
    done = spanish_page(client.post(f"/reminders/unsubscribe/{token}/", HTTP_ACCEPT_LANGUAGE="en"))
    assert english_left(done) == []


def test_it_describes_frequencies_and_dates_in_spanish(paciente):
    from django.utils import translation

    from routines import schedule

    hold = schedule.Hold(
        first=dt.date(2026, 11, 25), last=dt.date(2026, 12, 2), what="peeling", on=dt.date(2026, 11, 30)
    )
    with translation.override("es"):
        assert hold.reason(dt.date(2026, 11, 26)) == "En pausa antes de su peeling del 30 de noviembre"
        assert hold.summary() == (
            "En pausa del 25 de noviembre – 2 de diciembre por su peeling del 30 de noviembre; "
            "vuelva a empezar el 3 de diciembre"
        )
        step = paciente.plans.get().steps.get(product__name="Bioclear Serum")
        assert step.frequency_text == "Una noche sí y otra no"
    with translation.override("en"):
        assert step.frequency_text == "Every other evening"


def test_it_shows_her_library_with_spanish_condition_headings(paciente_client):
    page = spanish_page(paciente_client.get("/learn/"))
    assert ">Acné</h3>" in page and ">Acne</h3>" not in page
    assert english_left(page) == []
    article = spanish_page(paciente_client.get("/learn/milia-y-acne/"))
    assert english_left(article) == []


def test_it_keeps_english_condition_headings_for_the_english_patient(client, paciente):
    client.force_login(Patient.objects.get(user__username="demo-patient").user)
    page = client.get("/learn/").content.decode()
    assert ">Acne</h3>" in page


@pytest.mark.parametrize("path", ["/", "/plan/", "/plan/print/"])
def test_it_shows_her_routine_pages_with_spanish_interface_text(paciente_client, path):
    page = spanish_page(paciente_client.get(path))
    # Step instructions are the clinic's own text (per-language step text is still to come);
    # everything the interface says around them is Spanish.
    content = content_text()
    interface_left = [line for line in english_left(page) if line.lower() not in content]
    assert interface_left == []


def test_it_shows_her_today_page_with_a_spanish_date_and_slots(paciente_client, paciente):
    from django.utils import translation
    from django.utils.formats import date_format

    page = spanish_page(paciente_client.get("/"))
    with translation.override("es"):
        assert date_format(paciente.local_today(), "l, j \\d\\e F") in page
    assert ">Mañana<" in page and ">Noche<" in page


def content_text() -> set[str]:
    """The demo's English step text, product and plan names: the clinic's content, not interface text."""
    from routines.models import PlanStep, Product

    text = set()
    for step in PlanStep.objects.select_related("plan"):
        text.update(t.lower() for t in (step.instructions, step.caution, step.area, step.plan.name) if t)
    text.update(name.lower() for name in Product.objects.values_list("name", flat=True))
    return text
