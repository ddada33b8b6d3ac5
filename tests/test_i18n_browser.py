"""The language switch in a real browser, with JavaScript off: before login it follows the browser and
keeps a choice in a cookie; after login the choice is saved on the patient's record."""

import pytest

from portal.models import Patient
from tests.factories import PASSWORD, PatientFactory


@pytest.fixture
def spanish_browser(chromium):
    context = chromium.new_context(locale="es-MX", java_script_enabled=False)
    yield context.new_page()
    context.close()


@pytest.mark.browser
def test_it_switches_language_before_and_after_login_without_javascript(transactional_db, live_server, spanish_browser):
    page = spanish_browser
    PatientFactory(username="alice", chart_number="C-1001")

    page.goto(f"{live_server.url}/accounts/login/")
    assert page.locator("html").get_attribute("lang") == "es"
    assert page.locator("h1").inner_text() == "Iniciar sesión"

    page.get_by_role("button", name="English").click()
    assert page.locator("h1").inner_text() == "Log in"

    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{live_server.url}/learn/")
    assert page.locator("h1").inner_text() == "Learn about your skin"

    page.get_by_role("button", name="Español").click()
    assert page.url == f"{live_server.url}/learn/"
    assert page.locator("h1").inner_text() == "Aprenda sobre su piel"
    assert Patient.objects.get(chart_number="C-1001").preferred_language == "es"
