"""The weekly digest: planned and sent through the reminder queue, once a patient and week, only if chosen."""

import datetime as dt
import io
import subprocess
import sys
from collections import Counter

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.test import Client

from education.models import Article, ArticleRead
from portal.models import Patient
from reminders import planning, sending
from reminders.models import Reminder
from routines import schedule
from routines.models import Product, StepCheck
from tests.factories import (
    ArticleFactory,
    ConditionFactory,
    MiliaCarePlanFactory,
    PatientFactory,
    ProcedureFactory,
    ProcedureTypeFactory,
    ProductFactory,
    utc,
)
from tests.workers import PATIENTS, ROOT, kill_one_of_two_passes, recipients, run_pass, run_workers

# Sunday 7 March 2027, 10:00 in New York (EST): the default digest time.
SUNDAY = dt.date(2027, 3, 7)
DUE = utc(2027, 3, 7, 15, 0)
SUNSCREEN = [dict(slot=schedule.MORNING, instructions="Sunscreen")]


def digest_plan(patient, **fields):
    return MiliaCarePlanFactory(patient=patient, **{"steps": SUNSCREEN, **fields})


def digests(**filters):
    return Reminder.objects.filter(slot="digest", **filters)


def sent_digests(mailoutbox):
    """The digest emails among those sent (a step reminder may be due at the same time)."""
    return [email for email in mailoutbox if unsubscribes_from(email) == sending.UNSUBSCRIBE_DIGEST]


def unsubscribes_from(email) -> str:
    """What the email's one-click link turns off: a channel, or the digest."""
    token = email.extra_headers["List-Unsubscribe"].strip("<>").rstrip("/").rsplit("/", 1)[1]
    return sending.read_unsubscribe_token(token)[1]


def digest_email(patient, mailoutbox):
    """Plan and send at DUE; the one digest email `patient` got."""
    planning.plan_reminders(now=DUE)
    sending.send_due(now=DUE)
    mine = [email for email in sent_digests(mailoutbox) if email.to == [patient.user.email]]
    assert len(mine) == 1, [email.subject for email in mine]
    return mine[0]


def tick(plan, days):
    step = plan.steps.get()
    for day in days:
        StepCheck.objects.create(step=step, local_date=day)


def last_week(count):
    return [SUNDAY - dt.timedelta(days=n) for n in range(1, count + 1)]


# --- Planning ------------------------------------------------------------------


def test_it_plans_one_digest_on_the_patients_day_and_time(alice, bob):
    digest_plan(alice)
    Patient.objects.filter(pk=bob.pk).update(digest_weekday=0, digest_time=dt.time(18, 30))
    digest_plan(bob)
    planning.plan_reminders(now=DUE)
    planning.plan_reminders(now=DUE + dt.timedelta(minutes=5))
    planning.plan_reminders(now=utc(2027, 3, 8, 12, 0))
    alice_digest = digests(patient=alice).get()
    assert (alice_digest.local_date, alice_digest.due_at, alice_digest.channel) == (SUNDAY, DUE, "email")
    bob_digest = digests(patient=bob).get()
    # Monday 18:30 in New York (EST) is 23:30 UTC.
    assert (bob_digest.local_date, bob_digest.due_at) == (dt.date(2027, 3, 8), utc(2027, 3, 8, 23, 30))


def test_it_plans_one_digest_even_when_two_plans_run_that_day(alice):
    digest_plan(alice)
    digest_plan(alice, start_date=dt.date(2027, 3, 1))
    planning.plan_reminders(now=DUE)
    assert digests(patient=alice).count() == 1


@pytest.mark.parametrize(
    "choice, step_rows, digest_rows",
    [
        (dict(step_reminders=True, weekly_digest=True), 1, 1),
        (dict(step_reminders=True, weekly_digest=False), 1, 0),
        (dict(step_reminders=False, weekly_digest=True), 0, 1),
        (dict(step_reminders=False, weekly_digest=False), 0, 0),
        (dict(email_consent=False, sms_consent=False), 0, 0),
    ],
)
def test_it_plans_what_the_patient_chose(alice, choice, step_rows, digest_rows):
    Patient.objects.filter(pk=alice.pk).update(**choice)
    digest_plan(alice)
    planning.plan_reminders(now=utc(2027, 3, 7, 12, 0))  # the window holds Sunday's 08:00 reminder and the digest
    assert Reminder.objects.filter(slot="morning", local_date=SUNDAY).count() == step_rows
    assert digests().count() == digest_rows


def test_it_plans_no_digest_without_a_running_plan(alice):
    digest_plan(alice, start_date=dt.date(2027, 3, 8))
    planning.plan_reminders(now=DUE)
    assert not digests().exists()


# --- Sending -------------------------------------------------------------------


def test_it_sends_the_digest_once(alice, mailoutbox):
    digest_plan(alice)
    planning.plan_reminders(now=DUE)
    sending.send_due(now=DUE + dt.timedelta(minutes=1))
    planning.plan_reminders(now=DUE + dt.timedelta(minutes=2))
    sending.send_due(now=DUE + dt.timedelta(minutes=2))
    assert len(sent_digests(mailoutbox)) == 1
    row = digests().get()
    assert (row.status, row.attempts, row.sent_at) == ("sent", 1, DUE + dt.timedelta(minutes=1))


def test_it_skips_a_digest_too_late_like_any_reminder(alice, mailoutbox):
    digest_plan(alice)
    planning.plan_reminders(now=DUE)
    late = DUE + sending.grace() + dt.timedelta(minutes=1)
    sending.skip_late(now=late)
    sending.send_due(now=late)
    assert sent_digests(mailoutbox) == []
    assert digests().get().skip_reason.startswith("Too late")


@pytest.mark.parametrize(
    "change, reason",
    [
        (dict(weekly_digest=False), "The patient turned off the weekly digest."),
        (dict(email_consent=False), "No consent for Email reminders."),
        (dict(reminders_paused=True), "The patient paused reminders."),
        (dict(reminders_paused=True, paused_until=dt.date(2027, 3, 8)), "The patient paused reminders."),
    ],
)
def test_it_skips_the_digest_with_the_reason(alice, mailoutbox, change, reason):
    digest_plan(alice)
    planning.plan_reminders(now=DUE)
    Patient.objects.filter(pk=alice.pk).update(**change)
    sending.send_due(now=DUE)
    assert sent_digests(mailoutbox) == []
    assert (digests().get().status, digests().get().skip_reason) == ("skipped", reason)


def test_it_skips_the_digest_of_an_ended_plan(alice, mailoutbox):
    plan = digest_plan(alice)
    planning.plan_reminders(now=DUE)
    plan.status = "ended"
    plan.save()
    sending.send_due(now=DUE)
    assert sent_digests(mailoutbox) == []
    assert digests().get().skip_reason == "The plan has ended."


def test_it_sends_no_step_reminder_to_a_patient_who_chose_the_digest_only(alice, mailoutbox):
    digest_plan(alice)
    morning = utc(2027, 3, 7, 13, 0)
    planning.plan_reminders(now=morning)
    Patient.objects.filter(pk=alice.pk).update(step_reminders=False)  # chose after the reminder was planned
    sending.send_due(now=morning)
    assert mailoutbox == []
    step = Reminder.objects.get(slot="morning", local_date=SUNDAY)
    assert (step.status, step.skip_reason) == ("skipped", "The patient turned off step reminders.")
    sending.send_due(now=DUE)
    assert [email.subject for email in sent_digests(mailoutbox)] == ["Your week with your routine"]
    assert len(mailoutbox) == 1


# --- Content -------------------------------------------------------------------


def test_it_says_how_last_week_went_and_offers_a_tip(alice, mailoutbox):
    plan = digest_plan(alice)
    tick(plan, last_week(3))
    tick(plan, [SUNDAY])  # today is not part of last week
    email = digest_email(alice, mailoutbox)
    html = email.alternatives[0][0]
    assert email.to == ["alice@example.org"]
    for part in (email.body, html):
        assert "You did 3 of 7 steps last week." in part
        assert "A tip for this week:" in part
        assert "Well done" not in part


def test_it_encourages_a_good_week(alice, mailoutbox):
    plan = digest_plan(alice)
    tick(plan, last_week(6))
    email = digest_email(alice, mailoutbox)
    assert "You did 6 of 7 steps last week." in email.body
    assert "Well done" in email.body and "A tip" not in email.body


def test_it_links_the_next_article_not_read_or_not_understood(alice, mailoutbox):
    read, unread = ArticleFactory(slug="sun-care"), ArticleFactory(slug="gentle-cleansing")
    digest_plan(alice, articles=[read, unread])
    ArticleRead.objects.record(patient=alice, article=read, now=DUE - dt.timedelta(days=2))
    email = digest_email(alice, mailoutbox)
    html = email.alternatives[0][0]
    assert "Next to read: Gentle Cleansing" in email.body
    assert f"http://127.0.0.1:8000/learn/a/{unread.pk}/" in email.body
    assert f'href="http://127.0.0.1:8000/learn/a/{unread.pk}/"' in html
    assert f"/learn/a/{read.pk}/" not in email.body + html


def test_it_names_no_article_when_all_are_read(alice, mailoutbox):
    article = ArticleFactory(slug="sun-care")
    digest_plan(alice, articles=[article])
    ArticleRead.objects.record(patient=alice, article=article, now=DUE - dt.timedelta(days=2))
    assert "Next to read" not in digest_email(alice, mailoutbox).body


def test_it_announces_a_pause_coming_for_a_procedure(alice, mailoutbox):
    retinol = ProductFactory(name="Retinol Serum", category=Product.Category.RETINOID)
    digest_plan(alice, steps=[*SUNSCREEN, dict(slot=schedule.EVENING, instructions="Retinol", product=retinol)])
    peel = ProcedureTypeFactory(name="chemical peel", stops_categories="retinoid", days_before=3, days_after=2)
    ProcedureFactory(patient=alice, type=peel, date=dt.date(2027, 3, 12))
    email = digest_email(alice, mailoutbox)
    assert "Coming up:" in email.body
    assert "Retinol Serum: Paused" in email.body and "chemical peel" in email.body
    assert "Sunscreen: Paused" not in email.body


def test_it_never_names_a_condition_in_the_subject_preview_or_article(alice, mailoutbox):
    milia = ConditionFactory(name="Milia", name_es="Milium")
    digest_plan(alice, name="Milia care", articles=[ArticleFactory(slug="milia-explained", conditions=[milia])])
    email = digest_email(alice, mailoutbox)
    html = email.alternatives[0][0]
    preview = html.split('<div style="display: none', 1)[1].split("</div>", 1)[0]
    assert "You did 0 of 7 steps last week." in preview
    for part in (email.subject, preview, email.body.split("\n")[0]):
        assert "milia" not in part.lower()
    assert "An article from your care team" in email.body  # the title named it
    assert "milia" not in (email.body + html).lower()  # nor its link: by number, not slug
    article = Article.objects.get(slug="milia-explained")
    link = f"/learn/a/{article.pk}/"
    assert link in email.body
    alice_client = Client()
    alice_client.force_login(alice.user)
    assert alice_client.get(link)["Location"] == "/learn/milia-explained/"  # one click from the article


def test_it_shows_only_the_patients_own_data(alice, bob, mailoutbox):
    alice_plan = digest_plan(alice)
    tick(alice_plan, last_week(2))
    bob_plan = digest_plan(bob, articles=[ArticleFactory(slug="bobs-article")])
    tick(bob_plan, last_week(7))
    ProcedureFactory(patient=bob, type=ProcedureTypeFactory(name="laser", stops_categories="sunscreen"))
    planning.plan_reminders(now=DUE)
    sending.send_due(now=DUE)
    by_patient = {email.to[0]: email for email in sent_digests(mailoutbox)}
    alice_email = by_patient["alice@example.org"]
    text = alice_email.body + alice_email.alternatives[0][0]
    assert "You did 2 of 7 steps last week." in text
    assert "Bob" not in text and "bobs-article" not in text and "laser" not in text and "Next to read" not in text
    assert "Hi Bob" in by_patient["bob@example.org"].body and "You did 7 of 7" in by_patient["bob@example.org"].body


def test_it_writes_a_spanish_digest_for_a_spanish_patient(rosa, mailoutbox):
    """Needs the Spanish catalogue merge (locale/es/pending/digest.po)."""
    plan = digest_plan(rosa)
    tick(plan, last_week(2))
    email = digest_email(rosa, mailoutbox)
    html = email.alternatives[0][0]
    assert email.subject == "Su semana con su rutina"
    assert "Hizo 2 de 7 pasos la semana pasada." in email.body
    assert '<html lang="es">' in html
    assert "Dejar de recibir el resumen semanal" in html


def test_staff_see_digest_rows_with_their_skip_reason(alice, derm_client):
    digest_plan(alice)
    planning.plan_reminders(now=DUE)
    Patient.objects.filter(pk=alice.pk).update(reminders_paused=True)
    sending.send_due(now=DUE)
    response = derm_client.get("/admin/reminders/reminder/?kind=digest")
    assert response.status_code == 200
    assert {row.slot for row in response.context["cl"].result_list} == {"digest"}
    page = response.content.decode()
    assert "Weekly digest" in page and "skipped" in page
    steps = derm_client.get("/admin/reminders/reminder/?kind=steps").context["cl"].result_list
    assert steps and "digest" not in {row.slot for row in steps}
    row = digests().get()
    detail = derm_client.get(f"/admin/reminders/reminder/{row.pk}/change/").content.decode()
    assert "The patient paused reminders." in detail


# --- Unsubscribing -------------------------------------------------------------


def test_it_carries_one_click_unsubscribe_headers_that_turn_off_the_digest(alice, mailoutbox):
    digest_plan(alice)
    email = digest_email(alice, mailoutbox)
    assert email.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = email.extra_headers["List-Unsubscribe"].strip("<>")
    assert link.startswith("http://127.0.0.1:8000/reminders/unsubscribe/") and link in email.body
    response = Client(enforce_csrf_checks=True).post(
        link.removeprefix("http://127.0.0.1:8000"),
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    assert b"no more weekly digests" in response.content
    alice.refresh_from_db()
    assert (alice.weekly_digest, alice.step_reminders, alice.email_consent) == (False, True, True)


def test_it_asks_before_turning_off_the_digest(alice, client):
    response = client.get(f"/reminders/unsubscribe/{sending.unsubscribe_token(alice, 'digest')}/")
    assert b"Stop the weekly digest?" in response.content
    alice.refresh_from_db()
    assert alice.weekly_digest is True


def test_it_refuses_another_patients_digest_link(alice_client, bob):
    response = alice_client.post(f"/reminders/unsubscribe/{sending.unsubscribe_token(bob, 'digest')}/")
    assert response.status_code == 403
    bob.refresh_from_db()
    assert bob.weekly_digest is True


# --- The worker ------------------------------------------------------------------


@pytest.mark.django_db
def test_run_reminders_sends_the_demo_patient_one_digest(mailoutbox):
    with time_machine.travel("2027-03-07T12:00:00Z", tick=False):
        call_command("seed_demo", stdout=io.StringIO())
    for _ in range(2):
        call_command("run_reminders", "--once", "--now", "2027-03-07T15:01:00Z", stdout=io.StringIO())
    patient = Patient.objects.get(user__username="demo-patient")
    assert [email.to for email in sent_digests(mailoutbox)].count([patient.user.email]) == 1
    assert digests(patient=patient).get().status == "sent"


@pytest.mark.django_db(transaction=True)
def test_it_sends_each_digest_once_with_two_workers(mailoutbox):
    for n in range(20):
        digest_plan(PatientFactory(username=f"p{n}", email_consent=True))
    planning.plan_reminders(now=DUE)
    assert digests().count() == 20

    def drain():
        while sending.send_due(now=DUE, batch_size=3):
            pass

    run_workers(2, drain)
    recipients = Counter(address for email in sent_digests(mailoutbox) for address in email.to)
    assert len(recipients) == 20 and set(recipients.values()) == {1}
    assert digests(status="sent").count() == 20


@pytest.mark.django_db(transaction=True)
def test_it_sends_one_digest_when_two_workers_plan_and_send_at_once(mailoutbox):
    """Two whole passes at once, planning included, for patients with two running plans each."""
    if connection.vendor == "sqlite":
        # The shared in-memory test database fails at once instead of waiting for the write lock
        # that concurrent planning needs; CI runs this on PostgreSQL.
        pytest.skip("needs a database that waits for locks")
    for n in range(20):
        patient = PatientFactory(username=f"p{n}", email_consent=True)
        digest_plan(patient)
        digest_plan(patient, start_date=dt.date(2027, 3, 1))
    run_workers(2, lambda: call_command("run_reminders", "--once", "--now", DUE.isoformat(), stdout=io.StringIO()))
    recipients = Counter(address for email in sent_digests(mailoutbox) for address in email.to)
    assert len(recipients) == 20 and set(recipients.values()) == {1}
    assert digests().count() == 20


# --- A worker killed mid-send ----------------------------------------------------

# The fault drill's patients (tests/test_reminder_faults.py), who chose the digest only.
DIGEST_ONLY = """
import django; django.setup()
from portal.models import Patient
Patient.objects.update(step_reminders=False, weekly_digest=True)
"""
DIGEST_SUMMARY = """
import django; django.setup()
from reminders.models import Reminder
rows = Reminder.objects.all()
print("NOT_DIGESTS", rows.exclude(slot="digest").count(), "BAD", rows.exclude(status__in=["sent", "failed"]).count())
print("SENT", ",".join(sorted(rows.filter(status="sent").values_list("patient__user__email", flat=True))))
unknown = rows.filter(status="failed", last_error__contains="delivery is unknown")
print("UNKNOWN", ",".join(sorted(unknown.values_list("patient__user__email", flat=True))))
"""


@pytest.fixture
def digest_worker_env(worker_env):
    subprocess.run([sys.executable, "-c", DIGEST_ONLY], cwd=ROOT, env=worker_env, check=True)
    return worker_env


def test_a_killed_worker_costs_at_most_one_digest_and_sends_none_twice(digest_worker_env, tmp_path):
    mail_dir = tmp_path / "mail"
    kill_one_of_two_passes(digest_worker_env, mail_dir, DUE + dt.timedelta(minutes=1))
    # After the claim timeout: the digest in hand is recorded, the victim's unsent lease goes out.
    after = run_pass(digest_worker_env, DUE + dt.timedelta(minutes=15))
    assert after.wait(timeout=120) == 0, after.stderr.read()

    out = subprocess.run(
        [sys.executable, "-c", DIGEST_SUMMARY], cwd=ROOT, env=digest_worker_env, capture_output=True, text=True
    )
    counts, sent_line, unknown_line = out.stdout.splitlines()
    sent = [a for a in sent_line.removeprefix("SENT ").split(",") if a]
    unknown = [a for a in unknown_line.removeprefix("UNKNOWN ").split(",") if a]
    received = recipients(mail_dir)
    assert counts == "NOT_DIGESTS 0 BAD 0", "only digests were planned; each ends sent or failed"
    assert max(received.values()) == 1, "nobody got the digest twice"
    assert len(unknown) <= 1, "at most one 'delivery unknown' per killed worker"
    assert len(sent) + len(unknown) == PATIENTS, "everyone else got their digest"
    assert set(received) <= set(sent) | set(unknown), "nothing went out unrecorded"
