"""WCAG 2.2 AA in headless Chromium: axe-core finds no serious or critical violation on any page a patient
sees, before or after logging in, on a phone and on a desktop screen."""

import io

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command

from education.models import Article
from portal import roles
from portal.demo import DEMO_PASSWORD
from portal.invitations import create_invitation
from tests.axe import assert_accessible
from tests.factories import PatientFactory


@pytest.mark.browser
def test_it_passes_axe_before_login(transactional_db, live_server, axe_page):
    patient = PatientFactory(username="carol", chart_number="C-2001")
    patient.user.set_unusable_password()
    patient.user.save()
    invitation = create_invitation(patient=patient, sent_by=None)

    assert_accessible(
        axe_page,
        live_server.url,
        [
            "/accounts/login/",
            "/accounts/password_reset/",
            "/accounts/password_reset/done/",
            f"/accounts/activate/{invitation.token}/",
            "/accounts/activate/not-a-real-token/",
        ],
    )


@pytest.mark.browser
def test_it_passes_axe_on_every_patient_page(transactional_db, live_server, axe_page):
    # seed_demo puts its staff in the groups a data migration made; an earlier transactional test's flush
    # emptied the table (serialized_rollback cannot restore it: the flush's post_migrate recreates content types).
    for name in roles.ROLE_PERMISSIONS:
        Group.objects.get_or_create(name=name)
    call_command("seed_demo", stdout=io.StringIO())
    axe_page.goto(f"{live_server.url}/accounts/login/")
    axe_page.fill("input[name=username]", "demo-patient")
    axe_page.fill("input[name=password]", DEMO_PASSWORD)
    axe_page.locator("form:has(input[name=password]) [type=submit]").click()
    axe_page.wait_for_url(f"{live_server.url}/")
    articles = Article.objects.published().filter(language="en").values_list("slug", flat=True)

    assert_accessible(
        axe_page,
        live_server.url,
        ["/", "/plan/", "/plan/print/", "/learn/", *(f"/learn/{slug}/" for slug in articles), "/reminders/"],
    )
