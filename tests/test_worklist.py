"""The dermatologist's admin home (/admin/, also /admin/worklist/): open skin flags, patients quiet for 3+ of
their own days, procedures in the next 14 days with the steps they pause, articles due for review; each row one
click from its action; only dermatologists (and superusers) get it, in a bounded number of queries."""

import datetime as dt

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from education.models import Article
from portal import roles
from portal.models import AccessLog
from routines.models import IrritationFlag, Product
from tests.factories import (
    TODAY,
    ArticleFactory,
    PatientFactory,
    PlanFactory,
    ProcedureFactory,
    ProcedureTypeFactory,
    StepCheckFactory,
    UserFactory,
)

pytestmark = pytest.mark.usefixtures("frozen")

WORKLIST = "/admin/worklist/"


def _flag(patient, *, reason="Red and sore twice in 7 days", raised_on=TODAY, **fields):
    return IrritationFlag.objects.create(patient=patient, raised_on=raised_on, reason=reason, **fields)


def _quiet_patient(last_tick: dt.date | None, **fields):
    """A patient on a plan running since a week before TODAY, whose last tick was on `last_tick` (None: never)."""
    plan = PlanFactory(patient=PatientFactory(**fields), start_date=TODAY - dt.timedelta(days=7), steps=1)
    if last_tick is not None:
        StepCheckFactory(step=plan.steps.get(), local_date=last_tick)
    return plan.patient


def _peel_with_plan(patient, date):
    """A chemical peel on `date` for `patient`, whose plan has a retinol step (paused) and a sunscreen (not)."""
    plan = PlanFactory(patient=patient, start_date=TODAY, steps=[])
    retinol, _ = Product.objects.get_or_create(name="Retinol Serum", category=Product.Category.RETINOID)
    sunscreen, _ = Product.objects.get_or_create(name="Sunscreen SPF 30", category=Product.Category.SUNSCREEN)
    plan.steps.create(product=retinol, instructions="Pea-sized amount", slot="evening", order=1)
    plan.steps.create(product=sunscreen, instructions="Apply", slot="morning", order=2)
    kind = ProcedureTypeFactory(name="chemical peel", stops_categories=Product.Category.RETINOID)
    return ProcedureFactory(patient=patient, type=kind, date=date)


def _panel(response, panel_id: str) -> str:
    """The HTML of one panel of the page (from its opening tag to the next panel), or "" if absent."""
    html = response.content.decode()
    start = html.find(f'id="{panel_id}"')
    if start == -1:
        return ""
    end = html.find('class="module"', start + 1)
    return html[start : end if end != -1 else len(html)]


# --- Who gets it ---------------------------------------------------------------


def test_it_is_the_dermatologists_admin_home_with_the_stock_list_below(derm_client):
    response = derm_client.get("/admin/")

    assert response.status_code == 200
    assert "admin/routines/worklist.html" in [t.name for t in response.templates]
    html = response.content.decode()
    assert "Open skin flags" in html
    assert "All records" in html and reverse("admin:portal_patient_changelist") in html  # the stock index
    assert derm_client.get(WORKLIST).status_code == 200


def test_it_refuses_the_front_desk(desk_client):
    assert desk_client.get(WORKLIST).status_code == 403
    home = desk_client.get("/admin/")
    assert "admin/routines/print_desk.html" in [t.name for t in home.templates]
    assert "Open skin flags" not in home.content.decode()


def test_it_sends_patients_and_strangers_to_the_admin_login(client, alice):
    for who in (None, alice.user):
        if who is not None:
            client.force_login(who)
        for url in ("/admin/", WORKLIST):
            response = client.get(url)
            assert response.status_code == 302
            assert response["Location"].startswith(reverse("admin:login"))


def test_it_shows_a_superuser_both_homes(client, db):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))

    response = client.get("/admin/")

    assert "admin/routines/worklist.html" in [t.name for t in response.templates]
    assert reverse("admin:print-desk") in response.content.decode()
    assert client.get(reverse("admin:print-desk")).status_code == 200


def test_it_leaves_staff_without_a_role_on_the_stock_index(client, db):
    client.force_login(UserFactory(username="temp", is_staff=True))

    response = client.get("/admin/")

    assert response.status_code == 200
    assert [t.name for t in response.templates][0] == "admin/index.html"
    assert client.get(WORKLIST).status_code == 403


# --- Skin flags ----------------------------------------------------------------


def test_it_lists_open_skin_flags_with_the_patient_and_reason(derm_client, alice, bob):
    _flag(alice, raised_on=TODAY - dt.timedelta(days=2))
    _flag(bob, reason="Stinging three days running", reviewed_at=dt.datetime(2027, 3, 9, tzinfo=dt.UTC))

    panel = _panel(derm_client.get(WORKLIST), "worklist-flags")

    assert "Red and sore twice in 7 days" in panel
    assert reverse("admin:portal_patient_change", args=[alice.pk]) in panel
    assert "8 Mar 2027" in panel
    assert "Stinging three days running" not in panel  # reviewed


def test_its_mark_reviewed_button_reviews_the_flag_and_logs_it(derm_client, derm, alice):
    flag = _flag(alice)
    panel = _panel(derm_client.get(WORKLIST), "worklist-flags")
    assert f'action="{reverse("admin:routines_irritationflag_changelist")}"' in panel
    assert f'name="{ACTION_CHECKBOX_NAME}" value="{flag.pk}"' in panel

    derm_client.post(
        reverse("admin:routines_irritationflag_changelist"),
        {"action": "mark_reviewed", ACTION_CHECKBOX_NAME: flag.pk, "index": 0},
    )

    flag.refresh_from_db()
    assert flag.reviewed_by == derm
    assert AccessLog.objects.filter(patient=alice, what__startswith="Reviewed skin irritation flag").exists()
    assert "Red and sore" not in _panel(derm_client.get(WORKLIST), "worklist-flags")


# --- Quiet patients ------------------------------------------------------------


def test_it_lists_patients_on_a_plan_with_no_tick_for_three_days(derm_client):
    quiet = _quiet_patient(TODAY - dt.timedelta(days=4), username="quinn")
    never = _quiet_patient(None, username="nadia")
    ticking = _quiet_patient(TODAY - dt.timedelta(days=2), username="tom")
    no_plan = PatientFactory(username="nora")

    panel = _panel(derm_client.get(WORKLIST), "worklist-quiet")

    assert reverse("admin:portal_patient_change", args=[quiet.pk]) in panel
    assert "4 days" in panel
    assert reverse("admin:portal_patient_change", args=[never.pk]) in panel
    assert panel.index("Nadia") < panel.index("Quinn")  # never ticked first
    for absent in (ticking, no_plan):
        assert reverse("admin:portal_patient_change", args=[absent.pk]) not in panel


def test_it_counts_quiet_days_in_each_patients_own_time_zone(derm_client):
    # At noon in New York on TODAY it is already the next day in Auckland.
    three_days = TODAY - dt.timedelta(days=2)
    auckland = _quiet_patient(three_days, username="aroha", time_zone="Pacific/Auckland")
    new_york = _quiet_patient(three_days, username="nick")

    panel = _panel(derm_client.get(WORKLIST), "worklist-quiet")

    assert reverse("admin:portal_patient_change", args=[auckland.pk]) in panel
    assert reverse("admin:portal_patient_change", args=[new_york.pk]) not in panel


# --- Procedures ----------------------------------------------------------------


def test_it_lists_procedures_of_the_next_14_days_with_the_steps_they_pause(derm_client, alice, bob):
    soon = _peel_with_plan(alice, TODAY + dt.timedelta(days=5))
    late = ProcedureFactory(patient=bob, date=TODAY + dt.timedelta(days=15))
    past = ProcedureFactory(patient=bob, date=TODAY - dt.timedelta(days=1))

    panel = _panel(derm_client.get(WORKLIST), "worklist-procedures")

    assert reverse("admin:routines_procedure_change", args=[soon.pk]) in panel
    assert reverse("admin:portal_patient_change", args=[alice.pk]) in panel
    assert "Retinol Serum" in panel
    assert "Sunscreen" not in panel
    for absent in (late, past):
        assert reverse("admin:routines_procedure_change", args=[absent.pk]) not in panel


def test_it_says_when_a_procedure_falls_outside_any_plan(derm_client, alice):
    ProcedureFactory(patient=alice, date=TODAY + dt.timedelta(days=3))

    assert "No plan on that date." in _panel(derm_client.get(WORKLIST), "worklist-procedures")


# --- Articles ------------------------------------------------------------------


def test_it_lists_articles_due_for_review_linking_to_their_review_page(derm_client):
    overdue = ArticleFactory(slug="sunscreen-basics", next_review_due=TODAY - dt.timedelta(days=1))
    due_soon = ArticleFactory(slug="retinol-tips", next_review_due=TODAY + dt.timedelta(days=20))
    later = ArticleFactory(slug="milia-facts", next_review_due=TODAY + dt.timedelta(days=90))
    draft = ArticleFactory(slug="draft-one", status=Article.Status.DRAFT, next_review_due=None)

    panel = _panel(derm_client.get(WORKLIST), "worklist-articles")

    assert reverse("admin:education_article_change", args=[overdue.pk]) in panel
    assert "(overdue)" in panel
    assert reverse("admin:education_article_change", args=[due_soon.pk]) in panel
    for absent in (later, draft):
        assert reverse("admin:education_article_change", args=[absent.pk]) not in panel


def test_it_keeps_to_the_dermatologists_own_patients_when_asked(derm_client, alice):
    other_derm = UserFactory(username="olga", is_staff=True)
    theirs = PatientFactory(username="theo", dermatologist=other_derm)
    _flag(alice)
    _flag(theirs, reason="Peeling four days")
    for patient in (alice, theirs):
        ProcedureFactory(patient=patient, date=TODAY + dt.timedelta(days=2))

    everyone = derm_client.get(WORKLIST).content.decode()
    mine = derm_client.get(WORKLIST, {"mine": "1"})

    assert "Peeling four days" in everyone
    assert "Peeling four days" not in _panel(mine, "worklist-flags")
    assert "Red and sore" in _panel(mine, "worklist-flags")
    assert reverse("admin:portal_patient_change", args=[theirs.pk]) not in _panel(mine, "worklist-procedures")
    assert reverse("admin:portal_patient_change", args=[alice.pk]) in _panel(mine, "worklist-procedures")


# --- Only what the role may see; bounded ----------------------------------------


def test_it_shows_no_panel_whose_records_the_role_may_not_see(derm_client, alice):
    _flag(alice)
    ProcedureFactory(patient=alice, date=TODAY + dt.timedelta(days=3))
    group = Group.objects.get(name=roles.DERMATOLOGIST)
    group.permissions.remove(*Permission.objects.filter(codename__in=["view_irritationflag", "view_procedure"]))

    response = derm_client.get(WORKLIST)

    assert response.status_code == 200
    assert _panel(response, "worklist-flags") == ""
    assert _panel(response, "worklist-procedures") == ""
    assert _panel(response, "worklist-quiet") != ""


@pytest.mark.parametrize("rows", [1, 25])
def test_it_reads_a_fixed_number_of_queries_however_long_the_lists(derm_client, rows, django_assert_max_num_queries):
    for n in range(rows):
        patient = _quiet_patient(None, username=f"p{n}", time_zone=["America/New_York", "Europe/Madrid"][n % 2])
        _flag(patient)
        _peel_with_plan(patient, TODAY + dt.timedelta(days=n % 14))
        ArticleFactory(next_review_due=TODAY - dt.timedelta(days=1))

    with django_assert_max_num_queries(16):
        response = derm_client.get(WORKLIST)

    assert response.status_code == 200
    assert response.content.decode().count("Retinol Serum") == min(rows, 20)
