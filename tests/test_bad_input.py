"""Malformed input everywhere a patient or staff member can type: a clear
answer, no change, and never a server error.

Each @given test tries `max_examples` inputs; BAD_INPUTS_TRIED sums them for the README.
"""

import datetime as dt
from html.parser import HTMLParser
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.models import Patient
from routines.models import PlanStep, StepCheck
from tests.factories import PlanFactory

EXAMPLES = 40
HYPOTHESIS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Inputs a hostile or clumsy user might send: junk text, unicode, huge and
# negative numbers, impossible dates and times, control characters.
junk_text = st.one_of(
    st.text(max_size=300),
    st.sampled_from(["", " ", "0", "-1", "99999999999999999999", "1e309", "NaN", "null", "<script>x</script>"]),
    st.sampled_from(["25:61", "24:00", "12:60", "-01:00", "2027-02-30", "2027-13-01", "0000-00-00", "\x00", "💥"]),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.dates(min_value=dt.date(1, 1, 1)).map(lambda d: d.isoformat()),
)


def assert_no_server_error(response):
    assert response.status_code < 500, response.content[:500]


def patient_state(patient_id):
    return Patient.objects.filter(pk=patient_id).values().get()


@given(
    morning=junk_text,
    evening=junk_text,
    zone=st.one_of(junk_text, st.sampled_from(["America/New_York", "Mars/Olympus", "../../etc/passwd"])),
    paused_until=junk_text,
    consent=st.sampled_from(["on", "", "yes", "💥"]),
)
@HYPOTHESIS
def test_it_rejects_bad_reminder_settings_without_changing_anything(
    alice_client, alice, morning, evening, zone, paused_until, consent
):
    before = patient_state(alice.pk)
    response = alice_client.post(
        "/reminders/",
        {
            "morning_reminder_time": morning,
            "evening_reminder_time": evening,
            "time_zone": zone,
            "email_consent": consent,
            "reminders_paused": consent,
            "paused_until": paused_until,
        },
    )
    assert_no_server_error(response)
    if response.status_code == 200:  # re-rendered with errors
        assert b"invalid-feedback" in response.content or b"alert-danger" in response.content
        assert patient_state(alice.pk) == before


@given(step_id=st.one_of(st.integers(min_value=-(10**25), max_value=10**25).map(str), junk_text))
@HYPOTHESIS
def test_it_answers_404_for_any_step_that_is_not_the_patients_own(alice_client, bob, step_id):
    bobs_plan = PlanFactory(patient=bob, steps=1, start_date=bob.local_today())
    bobs_step = bobs_plan.steps.get()
    checks = StepCheck.objects.count()
    for candidate in (step_id, str(bobs_step.pk)):
        response = alice_client.post(f"/plan/steps/{candidate}/check/")
        assert_no_server_error(response)
        assert response.status_code == 404
    assert StepCheck.objects.count() == checks


@given(
    action=st.sampled_from(["check", "acknowledge"]),
    next_url=st.one_of(
        junk_text,
        st.sampled_from(["#x", "?x", "//evil.example/", "/\\evil.example", "https://evil.example/", "/plan/?a=1"]),
        st.text(max_size=50).map(lambda s: "/" + s),
    ),
)
@HYPOTHESIS
def test_it_redirects_to_a_local_path_for_any_next(alice_client, alice, action, next_url):
    step = PlanFactory(patient=alice, steps=1, start_date=alice.local_today()).steps.get()
    response = alice_client.post(f"/plan/steps/{step.pk}/{action}/", {"next": next_url})
    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith("/") and not location.startswith(("//", "/\\")), location
    assert location.endswith(f"#step-{step.pk}"), location


@given(username=junk_text, password=junk_text)
@HYPOTHESIS
def test_it_handles_junk_logins(client, alice, username, password):
    response = client.post("/accounts/login/", {"username": username, "password": password})
    assert_no_server_error(response)
    assert "_auth_user_id" not in client.session


@given(token=junk_text, password=junk_text)
@HYPOTHESIS
def test_it_handles_junk_invitation_tokens(client, alice, token, password):
    before = alice.user.password
    response = client.post(
        f"/accounts/activate/{quote(token, safe='')}x/", {"new_password1": password, "new_password2": password}
    )
    assert_no_server_error(response)
    alice.user.refresh_from_db()
    assert alice.user.password == before


@given(token=junk_text)
@HYPOTHESIS
def test_it_answers_404_for_junk_calendar_and_unsubscribe_tokens(client, alice, token):
    consent = alice.email_consent
    assert client.get(f"/reminders/calendar/{quote(token, safe='')}x.ics").status_code == 404
    response = client.post(f"/reminders/unsubscribe/{quote(token, safe='')}x/")
    assert_no_server_error(response)
    alice.refresh_from_db()
    assert alice.email_consent == consent


@given(q=junk_text)
@HYPOTHESIS
def test_it_handles_junk_searches_and_slugs(alice_client, q):
    assert_no_server_error(alice_client.get("/learn/", {"q": q}))
    assert alice_client.get(f"/learn/{quote(q, safe='')}x/").status_code in (404, 301, 302)


class _FormFields(HTMLParser):
    """The fields a browser would submit from the admin change form."""

    def __init__(self):
        super().__init__()
        self.data: dict[str, list[str]] = {}
        self._select = None
        self._textarea = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        name = attrs.get("name")
        if tag == "input" and name and attrs.get("type") not in ("submit", "button", "file"):
            if attrs.get("type") in ("checkbox", "radio") and "checked" not in attrs:
                return
            self.data.setdefault(name, []).append(attrs.get("value", "on"))
        elif tag == "select" and name:
            self._select = name
            self.data.setdefault(name, [])
        elif tag == "option" and self._select and "selected" in attrs:
            self.data[self._select].append(attrs.get("value", ""))
        elif tag == "textarea" and name:
            self._textarea = name
            self.data[name] = [""]

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            self.data[self._textarea][0] += data


def admin_form(client, url):
    parser = _FormFields()
    parser.feed(client.get(url).content.decode())
    return parser.data


def step_rows(plan):
    return list(PlanStep.objects.filter(plan=plan).order_by("pk").values())


@pytest.fixture
def alices_plan(alice):
    return PlanFactory(patient=alice, steps=2, start_date=alice.local_today())


@given(
    field=st.sampled_from(["interval_days", "offset_days", "weekdays", "wait_minutes", "frequency", "slot", "order"]),
    value=junk_text,
)
@HYPOTHESIS
def test_it_rejects_bad_step_edits_in_the_admin_without_changing_the_plan(derm_client, alices_plan, field, value):
    url = f"/admin/routines/plan/{alices_plan.pk}/change/"
    data = admin_form(derm_client, url)
    step_field = f"steps-0-{field}"
    assert "steps-0-id" in data
    before_steps, before_version = step_rows(alices_plan), type(alices_plan).objects.get(pk=alices_plan.pk).version
    data[step_field] = [value]
    response = derm_client.post(url, data)
    assert_no_server_error(response)
    if response.status_code == 200:  # refused, with the errors on the page
        assert b"errornote" in response.content or b"errorlist" in response.content
        assert step_rows(alices_plan) == before_steps
        assert type(alices_plan).objects.get(pk=alices_plan.pk).version == before_version


BAD_INPUTS_TRIED = EXAMPLES * 8
