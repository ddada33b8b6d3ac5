"""Staff pages make as many queries for a busy clinic as for a quiet one.

Each changelist (unfiltered, every filter choice and sortable column it
offers) and each change page is counted with 3 patients' worth of rows, then
again after 30 patients more; the count must not grow. Time is never asserted:
bench/bench_scale.py measures it on PostgreSQL at a year's size.
"""

import datetime as dt

import pytest
from django.contrib.admin.templatetags.admin_list import result_headers
from django.db import connection
from django.test.utils import CaptureQueriesContext

from education.models import Article
from portal.models import AccessLog, Patient
from reminders.models import Reminder
from routines.models import Plan, SkinCheckIn, StepCheck
from routines.services import assign_routine
from tests.factories import (
    TODAY,
    ArticleFactory,
    CautionAcknowledgementFactory,
    InvitationFactory,
    IrritationFlagFactory,
    PatientFactory,
    ProcedureFactory,
    ProcedureTypeFactory,
    RoutineTemplateFactory,
)

CHANGELISTS = [
    "/admin/portal/patient/",
    "/admin/portal/accesslog/",
    "/admin/portal/invitation/",
    "/admin/routines/plan/",
    "/admin/routines/stepcheck/",
    "/admin/routines/skincheckin/",
    "/admin/routines/cautionacknowledgement/",
    "/admin/routines/procedure/",
    "/admin/routines/irritationflag/",
    "/admin/routines/routinetemplate/",
    "/admin/reminders/reminder/",
    "/admin/education/article/",
]


pytestmark = pytest.mark.usefixtures("frozen")


class Clinic:
    """Patients on the Milia routine with a few weeks of everything staff lists: `grow(n)` adds n more."""

    def __init__(self, staff):
        self.staff = staff
        self.template = RoutineTemplateFactory()
        self.peel = ProcedureTypeFactory(name="Chemical peel", stops_categories="retinoid")
        self.patients = []

    @staticmethod
    def last_tick_days_ago(n: int) -> int:
        """Patients 0 and 1 (then every five) stopped ticking 3 and 4 days ago; the others tick daily."""
        return (n + 3) % 5

    def grow(self, count: int) -> None:
        start = len(self.patients)
        for n in range(start, start + count):
            self.template.articles.add(ArticleFactory(title=f"Article {n}", slug=f"article-{n}"))
            patient = PatientFactory(
                username=f"patient{n}", chart_number=f"C-{n:04d}", dermatologist=self.staff, email_consent=True
            )
            self.patients.append(patient)
            plan = assign_routine(
                patient=patient,
                template=self.template,
                start_date=TODAY - dt.timedelta(days=20),
                assigned_by=self.staff,
            )
            for step in plan.steps.all():
                StepCheck.objects.bulk_create(
                    StepCheck(step=step, local_date=TODAY - dt.timedelta(days=d))
                    for d in range(self.last_tick_days_ago(n), 10)
                )
                StepCheck.objects.record_last_check_ins(Patient.objects.filter(pk=patient.pk))
                if step.caution:
                    CautionAcknowledgementFactory(step=step)
            SkinCheckIn.objects.bulk_create(
                SkinCheckIn(patient=patient, local_date=TODAY - dt.timedelta(days=d), feeling="fine") for d in range(5)
            )
            Reminder.objects.bulk_create(
                Reminder(
                    patient=patient,
                    plan=plan,
                    slot=slot,
                    local_date=TODAY - dt.timedelta(days=d),
                    due_at=dt.datetime(2027, 3, 1, 13, tzinfo=dt.UTC) + dt.timedelta(days=d),
                    status=Reminder.Status.SENT if d % 3 else Reminder.Status.FAILED,
                )
                for d in range(4)
                for slot in ("morning", "evening")
            )
            AccessLog.objects.bulk_create(
                AccessLog(user=user, patient=patient, action=action, what="Today page")
                for user, action in ((patient.user, AccessLog.VIEW), (self.staff, AccessLog.PRINT))
            )
            InvitationFactory(patient=patient, created_by=self.staff)
            ProcedureFactory(patient=patient, type=self.peel, date=TODAY + dt.timedelta(days=n % 9))
            if n % 2:
                IrritationFlagFactory(patient=patient)


@pytest.fixture
def clinic(derm):
    return Clinic(derm)


def offered_urls(client, url: str) -> list[str]:
    """The changelist, each filter choice and each sortable column it offers, and its last page."""
    response = client.get(url)
    assert response.status_code == 200
    cl = response.context["cl"]
    urls = [url]
    for spec in cl.filter_specs:
        urls += [url + choice["query_string"] for choice in list(spec.choices(cl))[1:]]
    urls += [url + header["url_primary"] for header in result_headers(cl) if header.get("sortable")]
    if cl.paginator.num_pages > 1:
        urls.append(f"{url}?p={cl.paginator.num_pages}")
    return urls


def count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(queries)


@pytest.mark.django_db
@pytest.mark.parametrize("changelist", CHANGELISTS)
def test_it_lists_filters_and_sorts_in_as_many_queries_for_33_patients_as_for_3(
    changelist, admin_client, clinic, django_assert_max_num_queries
):
    clinic.grow(3)
    urls = offered_urls(admin_client, changelist)
    few = {url: count_queries(admin_client, url) for url in urls}

    clinic.grow(30)
    for url in urls:
        with django_assert_max_num_queries(few[url], info=url):
            assert admin_client.get(url).status_code == 200


def change_pages(clinic) -> list[str]:
    patient = clinic.patients[0]
    plan = Plan.objects.get(patient=patient)
    return [
        f"/admin/portal/patient/{patient.pk}/change/",
        f"/admin/portal/patient/{patient.pk}/assign-routine/",
        f"/admin/routines/plan/{plan.pk}/change/",
        f"/admin/routines/planstep/{plan.steps.first().pk}/change/",
        f"/admin/routines/routinetemplate/{clinic.template.pk}/change/",
        f"/admin/routines/templatestep/{clinic.template.steps.first().pk}/change/",
        f"/admin/education/article/{Article.objects.first().pk}/change/",
    ]


@pytest.mark.django_db
def test_change_pages_make_as_many_queries_with_33_patients_and_articles_as_with_3(
    admin_client, clinic, django_assert_max_num_queries
):
    clinic.grow(3)
    urls = change_pages(clinic)
    few = {url: count_queries(admin_client, url) for url in urls}

    clinic.grow(30)
    for url in urls:
        with django_assert_max_num_queries(few[url], info=url):
            assert admin_client.get(url).status_code == 200


@pytest.mark.django_db
def test_article_pickers_show_only_the_chosen_articles(admin_client, clinic):
    clinic.grow(3)
    patient = clinic.patients[0]
    plan = Plan.objects.get(patient=patient)
    extra = ArticleFactory(title="Never linked", slug="never-linked")
    for url in (
        f"/admin/routines/plan/{plan.pk}/change/",
        f"/admin/routines/routinetemplate/{clinic.template.pk}/change/",
        f"/admin/portal/patient/{patient.pk}/assign-routine/",
    ):
        page = admin_client.get(url).content.decode()
        assert "admin-autocomplete" in page and "autocomplete.js" in page, url
        assert extra.title not in page, url


@pytest.mark.django_db
def test_the_article_page_offers_staff_as_authors_not_every_patient(admin_client, clinic):
    clinic.grow(3)
    page = admin_client.get(f"/admin/education/article/{Article.objects.first().pk}/change/").content.decode()
    assert f">{clinic.staff.username}</option>" in page
    assert clinic.patients[0].user.username not in page


@pytest.mark.django_db
def test_the_access_log_finds_a_patients_rows_by_chart_number_or_username(admin_client, clinic):
    clinic.grow(3)
    first, second = clinic.patients[:2]
    by_chart = admin_client.get("/admin/portal/accesslog/", {"q": first.chart_number.lower()})
    assert {row.patient_id for row in by_chart.context["cl"].result_list} == {first.pk}
    by_user = admin_client.get("/admin/portal/accesslog/", {"q": second.user.username})
    assert {(row.patient_id, row.user_id) for row in by_user.context["cl"].result_list} == {
        (second.pk, second.user_id),  # what the patient read
        (second.pk, clinic.staff.pk),  # and who read their record
    }
    staff = admin_client.get("/admin/portal/accesslog/", {"q": clinic.staff.email})
    assert len(staff.context["cl"].result_list) == 3  # the staff member's prints, of every patient


@pytest.mark.django_db
def test_the_not_checked_in_filter_lists_running_plans_without_a_tick_in_three_days(admin_client, clinic):
    clinic.grow(5)
    response = admin_client.get("/admin/portal/patient/", {"checkins": "stale3"})
    assert {p.chart_number for p in response.context["cl"].result_list} == {"C-0000", "C-0001"}
