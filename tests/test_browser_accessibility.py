"""WCAG 2.2 AA in headless Chromium: axe-core finds no serious or critical violation on any page a patient
sees, before or after logging in, on a phone and on a desktop screen."""

import io
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management import call_command

from education.models import Article
from portal import roles
from portal.demo import DEMO_PASSWORD
from portal.invitations import create_invitation
from tests.factories import PatientFactory

# Installed from package.json by `make install` (npm ci); never fetched at test time.
AXE_JS = Path(settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING_IMPACTS = {"serious", "critical"}
RUN_AXE = r"""async () => {
  const results = await axe.run(document, {resultTypes: ["violations"]});
  return results.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map(n => n.target.join(" ") + " (" + n.failureSummary.replace(/\s+/g, " ").trim() + ")"),
  }));
}"""


@pytest.fixture(params=[390, 1280], ids=["phone", "desktop"])
def axe_page(request, chromium):
    assert AXE_JS.exists(), f"{AXE_JS} is missing: run `make install` (npm ci)"
    width = request.param
    phone = width < 768
    # add_script_tag injects axe as an inline <script>, which our Content-Security-Policy (script-src 'self')
    # rightly refuses; only these test contexts bypass the policy, so the pages themselves are unchanged.
    context = chromium.new_context(
        viewport={"width": width, "height": 844 if phone else 900},
        is_mobile=phone,
        has_touch=phone,
        locale="en-US",
        bypass_csp=True,
    )
    yield context.new_page()
    context.close()


def _violations(page, base_url, path):
    """Return one line per serious or critical violation on the page at `path`: id, help, then each target."""
    response = page.goto(f"{base_url}{path}")
    assert response is not None and response.status < 500, f"{path} answered {response and response.status}"
    page.add_script_tag(path=AXE_JS)
    return [
        f"{path} [{v['impact']}] {v['id']}: {v['help']}" + "".join(f"\n    at {node}" for node in v["nodes"])
        for v in page.evaluate(RUN_AXE)
        if v["impact"] in BLOCKING_IMPACTS
    ]


def _assert_accessible(page, base_url, paths):
    found = [line for path in paths for line in _violations(page, base_url, path)]
    assert not found, "axe-core found serious or critical violations:\n" + "\n".join(found)


@pytest.mark.browser
def test_it_passes_axe_before_login(transactional_db, live_server, axe_page):
    patient = PatientFactory(username="carol", chart_number="C-2001")
    patient.user.set_unusable_password()
    patient.user.save()
    invitation = create_invitation(patient=patient, sent_by=None)

    _assert_accessible(
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

    _assert_accessible(
        axe_page,
        live_server.url,
        ["/", "/plan/", "/plan/print/", "/learn/", *(f"/learn/{slug}/" for slug in articles), "/reminders/"],
    )
