"""The front desk's admin home (/admin/, also /admin/print-desk/): one search box (name, chart number or date of
birth as staff type it), straight to print plan / print or email invitation / reset link / print article; today's
and tomorrow's procedures (the clinic's dates) with their plan to print. Nothing clinical; desk only."""

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from education.models import Article
from portal.models import AccessLog, Invitation
from routines.models import IrritationFlag
from tests.factories import (
    TODAY,
    ArticleFactory,
    PatientFactory,
    PlanFactory,
    ProcedureFactory,
    SkinCheckInFactory,
)

pytestmark = pytest.mark.usefixtures("frozen")

DESK = "/admin/print-desk/"
BORN = dt.date(1984, 3, 5)


@pytest.fixture
def maya(db):
    """A patient at the counter: born 5 March 1984, never set a password, on a plan."""
    patient = PatientFactory(username="maya", chart_number="C-2040", date_of_birth=BORN)
    patient.user.first_name, patient.user.last_name = "Maya", "García"
    patient.user.set_unusable_password()
    patient.user.save()
    PlanFactory(patient=patient)
    return patient


def _search(client, text):
    return client.get(DESK, {"q": text})


def _patient_links(response) -> list[str]:
    return [reverse("admin:portal_patient_change", args=[patient.pk]) for patient in response.context["patients"] or []]


# --- Who gets it ---------------------------------------------------------------


def test_it_is_the_front_desks_admin_home_with_the_stock_list_below(desk_client):
    response = desk_client.get("/admin/")

    assert response.status_code == 200
    assert "admin/routines/print_desk.html" in [t.name for t in response.templates]
    assert "All records" in response.content.decode()
    assert reverse("admin:portal_patient_changelist") in response.content.decode()


def test_it_refuses_dermatologists_patients_and_strangers(derm_client, client, alice):
    assert derm_client.get(DESK).status_code == 403
    for who in (alice.user, None):
        other = Client()
        if who is not None:
            other.force_login(who)
        response = other.get(DESK)
        assert response.status_code == 302 and response["Location"].startswith(reverse("admin:login"))
        assert other.post(DESK, {"patient": alice.pk, "action": "password-reset"}).status_code == 302


# --- Search --------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed", ["1984-03-05", "03/05/1984", "3/5/1984", "5 March 1984", "5 mar 1984", "March 5, 1984", "Mar. 5 1984"]
)
def test_it_finds_a_patient_by_date_of_birth_as_staff_type_it(desk_client, maya, alice, typed):
    response = _search(desk_client, typed)

    assert _patient_links(response) == [reverse("admin:portal_patient_change", args=[maya.pk])]


@pytest.mark.parametrize("typed", ["c-2040", "C-2040", "maya", "garc", "Maya Garc", "  GARC "])
def test_it_finds_a_patient_by_chart_number_or_name(desk_client, maya, alice, typed):
    assert _patient_links(_search(desk_client, typed)) == [reverse("admin:portal_patient_change", args=[maya.pk])]


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("31/02/1990", "“31/02/1990” is not a date we can read. Type a date of birth as 1984-03-05"),
        ("1990-13-01", "is not a date we can read"),
        ("03/05/84", "is not a date we can read"),
        ("31 Feb 1990", "is not a date we can read"),
        ("2030-01-01", "is in the future"),
    ],
)
def test_it_explains_a_date_it_cannot_read_and_searches_nothing(desk_client, maya, typed, message):
    response = _search(desk_client, typed)

    assert response.status_code == 200
    assert message in response.content.decode()
    assert response.context["patients"] is None
    assert 'aria-invalid="true"' in response.content.decode()


@pytest.mark.parametrize("typed", ["5 September 1984", "5 Sept 1984", "Sept. 5, 1984"])
def test_it_reads_september_however_it_is_written(desk_client, typed):
    born = PatientFactory(username="sep", date_of_birth=dt.date(1984, 9, 5))

    assert _patient_links(_search(desk_client, typed)) == [reverse("admin:portal_patient_change", args=[born.pk])]


def test_it_says_when_nothing_matches(desk_client, maya):
    assert "No patient matches “Zed”" in _search(desk_client, "Zed").content.decode()


def test_it_searches_published_articles_to_print(desk_client):
    ArticleFactory(slug="sunscreen-every-day", title="Sunscreen every day")
    ArticleFactory(slug="sunscreen-draft", title="Sunscreen draft", status=Article.Status.DRAFT)

    html = _search(desk_client, "sunscreen").content.decode()

    assert reverse("handouts:article", args=["sunscreen-every-day"]) in html
    assert "sunscreen-draft" not in html


# --- Print and send ------------------------------------------------------------


def test_its_print_plan_link_prints_the_plan_and_logs_it(desk_client, desk, maya):
    html = _search(desk_client, "1984-03-05").content.decode()
    link = reverse("handouts:patient-plan", args=[maya.pk])
    assert link in html

    response = desk_client.get(link)

    assert response["Content-Type"] == "application/pdf"
    assert AccessLog.objects.filter(user=desk, patient=maya, action=AccessLog.PRINT).exists()


def test_it_offers_no_plan_to_print_for_a_patient_without_one(desk_client, alice):
    html = _search(desk_client, "C-1001").content.decode()

    assert "No plan to print" in html
    assert reverse("handouts:patient-plan", args=[alice.pk]) not in html


def test_its_print_invitation_button_issues_one_and_opens_the_letter(desk_client, desk, maya):
    response = desk_client.post(DESK, {"patient": maya.pk, "action": "print-invitation", "q": "maya"})

    assert response.status_code == 302
    assert response["Location"] == reverse("handouts:patient-invite", args=[maya.pk])
    assert Invitation.objects.filter(patient=maya, created_by=desk).count() == 1
    assert desk_client.get(response["Location"])["Content-Type"] == "application/pdf"
    # The open letter can be printed again from the search, without issuing another.
    assert reverse("handouts:patient-invite", args=[maya.pk]) in _search(desk_client, "maya").content.decode()


def test_its_email_invitation_button_emails_the_patient(desk_client, maya, mailoutbox):
    response = desk_client.post(DESK, {"patient": maya.pk, "action": "email-invitation", "q": "maya"})

    assert response["Location"] == f"{DESK}?q=maya"
    assert [mail.to for mail in mailoutbox] == [[maya.user.email]]
    assert Invitation.objects.filter(patient=maya).count() == 1


def test_it_never_invites_an_active_account_and_offers_a_reset_link(desk_client, alice, mailoutbox):
    html = _search(desk_client, "C-1001").content.decode()
    assert 'value="password-reset"' in html
    assert 'value="email-invitation"' not in html and 'value="print-invitation"' not in html

    for action in ("email-invitation", "print-invitation"):
        response = desk_client.post(DESK, {"patient": alice.pk, "action": action}, follow=True)
        assert "already uses the portal" in response.content.decode()
    assert not Invitation.objects.filter(patient=alice).exists()
    assert mailoutbox == []

    desk_client.post(DESK, {"patient": alice.pk, "action": "password-reset"})

    assert [mail.to for mail in mailoutbox] == [[alice.user.email]]
    assert AccessLog.objects.filter(patient=alice, what="Sent password reset email").exists()


def test_it_needs_csrf_and_a_real_patient_and_action(desk, maya):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(desk)
    assert strict.post(DESK, {"patient": maya.pk, "action": "print-invitation"}).status_code == 403

    loose = Client()
    loose.force_login(desk)
    assert loose.post(DESK, {"patient": "x", "action": "print-invitation"}).status_code == 400
    assert loose.post(DESK, {"patient": maya.pk, "action": "delete"}).status_code == 400
    assert loose.post(DESK, {"patient": 99999, "action": "print-invitation"}).status_code == 404
    assert not Invitation.objects.exists()


# --- Procedures ----------------------------------------------------------------


def test_it_lists_todays_and_tomorrows_procedures_with_their_plan_to_print(desk_client, maya, bob):
    today = ProcedureFactory(patient=maya, date=TODAY)
    ProcedureFactory(patient=bob, date=TODAY + dt.timedelta(days=1))
    ProcedureFactory(patient=bob, date=TODAY + dt.timedelta(days=2), type__name="laser")
    ProcedureFactory(patient=bob, date=TODAY - dt.timedelta(days=1), type__name="microneedling")

    response = desk_client.get(DESK)

    listed = response.context["procedures"]
    assert [(p.patient, p.date) for p in listed] == [(maya, TODAY), (bob, TODAY + dt.timedelta(days=1))]
    html = response.content.decode()
    assert reverse("handouts:patient-plan", args=[maya.pk]) in html
    assert "laser" not in html and "microneedling" not in html
    hold = today.hold
    assert f"{hold.first:%-d %b} to {hold.last:%-d %b}" in html


def test_it_reads_today_in_the_clinics_time_zone(desk_client, frozen, maya, settings):
    # 22:00 in New York (the clinic) is already the next day in UTC.
    frozen.move_to("2027-03-11T03:00:00Z")
    ProcedureFactory(patient=maya, date=TODAY)
    ProcedureFactory(patient=maya, date=TODAY + dt.timedelta(days=2), type__name="laser")

    listed = desk_client.get(DESK).context["procedures"]

    assert [p.date for p in listed] == [TODAY]


# --- Nothing clinical; bounded -------------------------------------------------


def test_it_shows_the_desk_nothing_clinical(desk_client, maya):
    IrritationFlag.objects.create(patient=maya, raised_on=TODAY, reason="Red and sore twice in 7 days")
    SkinCheckInFactory(patient=maya, feeling="stinging")
    ProcedureFactory(patient=maya, date=TODAY)

    html = _search(desk_client, "maya").content.decode()

    for clinical in ("Red and sore", "tinging", "Adherence", "Step number", "Open skin flags"):
        assert clinical not in html
    assert reverse("admin:routines_plan_change", args=[maya.plans.get().pk]) not in html


@pytest.mark.parametrize("rows", [1, 25])
def test_it_reads_a_fixed_number_of_queries_however_many_match(desk_client, rows, django_assert_max_num_queries):
    for n in range(rows):
        patient = PatientFactory(username=f"ana{n}", date_of_birth=BORN)
        PlanFactory(patient=patient, steps=1)
        ProcedureFactory(patient=patient, date=TODAY + dt.timedelta(days=n % 2))
        ArticleFactory(slug=f"ana-{n}", title=f"Ana {n}")

    with django_assert_max_num_queries(12):
        by_name = _search(desk_client, "ana")
    with django_assert_max_num_queries(12):
        by_date = _search(desk_client, "1984-03-05")

    assert len(by_name.context["patients"]) == len(by_date.context["patients"]) == min(rows, 20)
    assert len(by_name.context["procedures"]) == rows
