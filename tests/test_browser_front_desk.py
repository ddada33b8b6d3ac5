"""The front desk's journey in headless Chromium at 1280×900: find a patient by date of birth, print the plan,
print the plan of a patient with a procedure today (it shows the pause); and axe-core on both staff homes."""

import datetime as dt
import io

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone
from pypdf import PdfReader

from portal import roles
from portal.models import AccessLog
from routines.models import IrritationFlag, Product
from tests.axe import assert_accessible
from tests.factories import PASSWORD, ArticleFactory, PatientFactory, PlanFactory, ProcedureFactory, StaffFactory

BORN = dt.date(1984, 3, 5)


@pytest.fixture
def staff_roles(transactional_db):
    """The role groups with their permissions: an earlier transactional test's flush emptied them."""
    roles.sync_roles(MigrationExecutor(connection).loader.project_state().apps, None)


@pytest.fixture
def desk_page(chromium):
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="en-US", accept_downloads=True)
    yield context.new_page()
    context.close()


def _maya_with_a_peel_today():
    """Maya, born 5 March 1984, on a plan with a retinol step, and a chemical peel today (which pauses retinol)."""
    patient = PatientFactory(username="maya", chart_number="C-2040", date_of_birth=BORN)
    patient.user.first_name, patient.user.last_name = "Maya", "García"
    patient.user.save()
    plan = PlanFactory(patient=patient, start_date=patient.local_today() - dt.timedelta(days=10), steps=[])
    retinol = Product.objects.create(name="Retinol Serum", category=Product.Category.RETINOID)
    plan.steps.create(product=retinol, instructions="Pea-sized amount", slot="evening", order=1)
    ProcedureFactory(patient=patient, date=timezone.localdate(), type__stops_categories=Product.Category.RETINOID)
    return patient


def _log_in(page, live_server, username):
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.locator("input[type=submit]").click()
    page.wait_for_url(f"{live_server.url}/admin/")


def _pdf_text(page, link) -> str:
    """Click `link`, check the browser got a PDF, and return the PDF's text.

    Chromium shows a PDF in its viewer (whose page is HTML, not the file), so the file's text is
    read through the page's own request context, as the same logged-in user: a second print.
    """
    with page.expect_response(lambda response: response.url.endswith(".pdf")) as answer:
        link.click()
    assert answer.value.status == 200
    assert answer.value.headers["content-type"] == "application/pdf"
    again = page.request.get(answer.value.url)
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(again.body())).pages)


@pytest.mark.browser
def test_it_lets_the_front_desk_find_a_patient_by_date_of_birth_and_print(staff_roles, live_server, desk_page):
    page = desk_page
    desk = StaffFactory(username="frank", role=roles.FRONT_DESK)
    maya = _maya_with_a_peel_today()
    PatientFactory(username="other", date_of_birth=dt.date(1990, 1, 1))

    _log_in(page, live_server, "frank")
    page.get_by_label("Find a patient or an article").fill("03/05/1984")
    page.get_by_label("Find a patient or an article").press("Enter")
    page.wait_for_load_state()

    rows = page.locator("#desk-patients tbody tr")
    assert rows.count() == 1
    assert "Maya García" in rows.inner_text()
    plan = _pdf_text(page, rows.get_by_role("link", name="Print plan of Maya García"))
    assert "Retinol Serum" in plan

    page.goto(f"{live_server.url}/admin/")
    today = page.locator("#desk-procedures tbody tr", has_text="Today")
    assert "Maya García" in today.inner_text()
    with_pause = _pdf_text(page, today.get_by_role("link", name="Print plan with the pause for Maya García"))
    assert "chemical peel" in with_pause.lower()
    assert "paused" in with_pause.lower()
    prints = AccessLog.objects.filter(user=desk, patient=maya, action=AccessLog.PRINT)
    assert prints.count() == 4  # two prints, each read back once


@pytest.mark.browser
def test_it_passes_axe_on_both_staff_homes(staff_roles, live_server, axe_page):
    StaffFactory(username="frank", role=roles.FRONT_DESK)
    StaffFactory(username="dana", role=roles.DERMATOLOGIST)
    maya = _maya_with_a_peel_today()
    IrritationFlag.objects.create(patient=maya, raised_on=maya.local_today(), reason="Red and sore twice in 7 days")
    ArticleFactory(slug="sunscreen-every-day", title="Sunscreen every day", next_review_due=None)

    _log_in(axe_page, live_server, "dana")
    assert_accessible(axe_page, live_server.url, ["/admin/"])
    axe_page.context.clear_cookies()
    _log_in(axe_page, live_server, "frank")
    assert_accessible(
        axe_page, live_server.url, ["/admin/", "/admin/print-desk/?q=1984-03-05", "/admin/print-desk/?q=31/02/1990"]
    )
