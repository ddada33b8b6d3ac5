"""Sending: exactly once, skipped with a reason, failed and retried with back-off."""

import datetime as dt
import os
import signal
import smtplib
import subprocess
import sys
import uuid
from pathlib import Path
from unittest import mock

import pytest
import time_machine
from django.core.management import call_command
from django.db import OperationalError
from django.test import override_settings
from django.utils import timezone

from reminders import planning, sending
from reminders.management.commands import run_reminders
from reminders.models import Reminder, WorkerHeartbeat, claim_timeout, grace
from routines import schedule
from tests.factories import ConditionFactory, MiliaCarePlanFactory, utc

# Alice's 08:00 EST morning reminder on 2 March 2027 is due at 13:00 UTC.
DUE = utc(2027, 3, 2, 13, 0)
LOCMEM_SEND = "django.core.mail.backends.locmem.EmailBackend.send_messages"


@pytest.fixture
def morning(alice):
    """Alice's planned morning reminder on 2 March (2 steps)."""
    plan = MiliaCarePlanFactory(
        patient=alice,
        steps=[
            dict(slot=schedule.MORNING, instructions="Gentle cleanser"),
            dict(slot=schedule.MORNING, instructions="Sunscreen SPF 30"),
        ],
    )
    planning.plan_reminders(now=DUE)
    return Reminder.objects.get(plan=plan, slot="morning", local_date=dt.date(2027, 3, 2))


def test_it_sends_a_due_reminder_once(morning, mailoutbox):
    sending.send_due(now=DUE + dt.timedelta(minutes=1))
    sending.send_due(now=DUE + dt.timedelta(minutes=2))
    assert len(mailoutbox) == 1
    morning.refresh_from_db()
    assert morning.status == "sent"
    assert morning.attempts == 1
    assert morning.sent_at == DUE + dt.timedelta(minutes=1)


def test_a_pass_sends_what_is_due_before_planning_reads_every_plan(morning, mailoutbox):
    """Planning a large clinic takes a while: a reminder already planned must not wait for it."""
    seen_by_planning, plan_reminders_as_written = [], planning.plan_reminders

    def plan_reminders(*, now, **kwargs):
        seen_by_planning.append(len(mailoutbox))
        return plan_reminders_as_written(now=now, **kwargs)

    with mock.patch.object(planning, "plan_reminders", plan_reminders):
        call_command(
            "run_reminders", "--once", "--now", (DUE + dt.timedelta(minutes=1)).isoformat(), stdout=mock.Mock()
        )
    assert seen_by_planning == [1]  # sent before planning began
    assert len(mailoutbox) == 1


def test_it_writes_a_friendly_email(morning, mailoutbox):
    sending.send_due(now=DUE)
    email = mailoutbox[0]
    html = email.alternatives[0][0]
    assert email.to == ["alice@example.org"]
    assert email.subject == "Your morning routine: 2 steps"
    assert "Hi Alice, your morning routine: 2 steps" in email.body
    for part in (email.body, html):
        assert "Gentle cleanser" in part
        assert "Sunscreen SPF 30" in part
        assert "http://127.0.0.1:8000/" in part
        assert "/reminders/unsubscribe/" in part
    assert 'name="viewport"' in html
    assert email.extra_headers["List-Unsubscribe"].startswith("<http://127.0.0.1:8000/reminders/unsubscribe/")
    assert email.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_it_never_names_a_condition_or_the_plan(alice, mailoutbox):
    ConditionFactory(name="Milia")
    ConditionFactory(name="Acne")
    MiliaCarePlanFactory(
        patient=alice,
        name="Milia care",
        steps=[
            dict(slot=schedule.MORNING, instructions="Phyto 52: helps release milia"),
            dict(slot=schedule.MORNING, instructions="Sunscreen"),
        ],
    )
    planning.plan_reminders(now=DUE)
    sending.send_due(now=DUE)
    email = mailoutbox[0]
    text = " ".join([email.subject, email.body, email.alternatives[0][0], str(email.extra_headers)]).lower()
    assert "milia" not in text
    assert "acne" not in text
    assert "Step 1 of your routine" in email.body
    assert "Sunscreen" in email.body


def test_it_skips_a_reminder_past_the_grace_window(morning, mailoutbox):
    now = DUE + dt.timedelta(hours=2, minutes=1)
    assert sending.send_due(now=now) == 0
    assert sending.skip_late(now=now) == 1
    morning.refresh_from_db()
    assert morning.status == "skipped"
    assert "Too late" in morning.skip_reason
    assert mailoutbox == []


def test_it_still_sends_inside_the_grace_window(morning, mailoutbox):
    sending.skip_late(now=DUE + dt.timedelta(hours=1, minutes=59))
    sending.send_due(now=DUE + dt.timedelta(hours=1, minutes=59))
    assert len(mailoutbox) == 1


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"reminders_paused": True}, "paused"),
        ({"reminders_paused": True, "paused_until": dt.date(2027, 3, 5)}, "paused"),
        ({"email_consent": False}, "No consent"),
    ],
)
def test_it_skips_patients_who_opted_out_after_planning(morning, alice, mailoutbox, change, reason):
    for field, value in change.items():
        setattr(alice, field, value)
    alice.save()
    sending.send_due(now=DUE)
    morning.refresh_from_db()
    assert morning.status == "skipped"
    assert reason in morning.skip_reason
    assert mailoutbox == []


def test_it_sends_again_once_a_pause_is_over(morning, alice, mailoutbox):
    alice.reminders_paused = True
    alice.paused_until = dt.date(2027, 3, 2)
    alice.save()
    sending.send_due(now=DUE)
    assert len(mailoutbox) == 1


def test_it_skips_an_ended_plan(morning, mailoutbox):
    morning.plan.status = "ended"
    morning.plan.save()
    sending.send_due(now=DUE)
    morning.refresh_from_db()
    assert (morning.status, morning.skip_reason) == ("skipped", "The plan has ended.")
    assert mailoutbox == []


def test_it_plans_nothing_for_paused_or_unconsented_patients_beyond_skips(alice, bob, mailoutbox):
    alice.reminders_paused = True
    alice.save()
    bob.email_consent = False
    bob.save()
    MiliaCarePlanFactory(patient=alice)
    MiliaCarePlanFactory(patient=bob)
    call_command("run_reminders", "--once", "--now", "2027-03-02T13:01:00Z", stdout=mock.Mock())
    assert mailoutbox == []
    assert not Reminder.objects.filter(patient=bob).exists()
    assert set(Reminder.objects.filter(patient=alice, due_at__lte=DUE).values_list("status", flat=True)) == {"skipped"}


def test_it_retries_a_failure_with_back_off_then_succeeds(morning, mailoutbox):
    with mock.patch(LOCMEM_SEND, side_effect=smtplib.SMTPServerDisconnected("Connection unexpectedly closed")):
        sending.send_due(now=DUE)
    morning.refresh_from_db()
    assert morning.status == "failed"
    assert morning.attempts == 1
    assert "SMTPServerDisconnected" in morning.last_error
    assert morning.next_attempt_at == DUE + dt.timedelta(seconds=60)

    assert sending.send_due(now=DUE + dt.timedelta(seconds=30)) == 0  # backing off
    with mock.patch(LOCMEM_SEND, side_effect=smtplib.SMTPServerDisconnected("again")):
        sending.send_due(now=DUE + dt.timedelta(seconds=61))
    morning.refresh_from_db()
    assert (morning.attempts, morning.next_attempt_at) == (2, DUE + dt.timedelta(seconds=61 + 120))

    sending.send_due(now=DUE + dt.timedelta(seconds=181))
    morning.refresh_from_db()
    assert (morning.status, morning.attempts, morning.last_error) == ("sent", 3, "")
    assert len(mailoutbox) == 1


@override_settings(REMINDER_MAX_ATTEMPTS=3)
def test_it_gives_up_after_the_last_attempt(morning, mailoutbox):
    now = DUE
    with mock.patch(LOCMEM_SEND, side_effect=smtplib.SMTPServerDisconnected("down")):
        for _ in range(5):
            sending.send_due(now=now)
            now += dt.timedelta(minutes=10)
    morning.refresh_from_db()
    assert (morning.status, morning.attempts, morning.next_attempt_at) == ("failed", 3, None)


def test_it_does_not_retry_a_permanent_error(morning, alice, mailoutbox):
    alice.user.email = ""
    alice.user.save()
    sending.send_due(now=DUE)
    morning.refresh_from_db()
    assert (morning.status, morning.next_attempt_at) == ("failed", None)
    assert "no email address" in morning.last_error


def test_it_fails_a_reminder_left_sending_by_a_crashed_worker_without_resending(morning, mailoutbox):
    Reminder.objects.filter(pk=morning.pk).update(status="sending", claimed_at=DUE)
    assert sending.recover_stuck(now=DUE + dt.timedelta(minutes=5)) == 0  # maybe still sending
    assert sending.recover_stuck(now=DUE + dt.timedelta(minutes=11)) == 1
    sending.send_due(now=DUE + dt.timedelta(minutes=12))
    morning.refresh_from_db()
    assert morning.status == "failed"
    assert "delivery is unknown" in morning.last_error
    assert mailoutbox == []


def test_it_runs_one_whole_pass_with_once_and_now(alice, mailoutbox, client):
    MiliaCarePlanFactory(patient=alice)
    out = mock.Mock()
    call_command("run_reminders", "--once", "--now", "2027-03-02T13:01:00Z", stdout=out)
    assert len(mailoutbox) == 1
    assert mailoutbox[0].subject == "Your morning routine: 2 steps"
    assert Reminder.objects.get(status="sent").local_date == dt.date(2027, 3, 2)
    assert Reminder.objects.filter(status="pending").count() == 2  # this evening and tomorrow morning
    assert WorkerHeartbeat.objects.filter(name="run_reminders").exists()
    assert client.get("/healthz").json()["reminders"] == "ok"

    # Running the same pass again sends nothing more.
    call_command("run_reminders", "--once", "--now", "2027-03-02T13:05:00Z", stdout=out)
    assert len(mailoutbox) == 1


def test_it_reports_a_stale_scheduler(db, client):
    assert client.get("/healthz").json()["reminders"] == "stale"
    WorkerHeartbeat.objects.beat(WorkerHeartbeat.REMINDERS)
    assert client.get("/healthz").json()["reminders"] == "ok"
    WorkerHeartbeat.objects.update(beat_at=utc(2020, 1, 1))
    assert client.get("/healthz").json()["reminders"] == "stale"


def test_it_records_an_unexpected_error_instead_of_leaving_the_row_sending(morning, mailoutbox):
    with mock.patch("routines.models.Plan.steps_due_on", side_effect=RuntimeError("schedule broke")):
        sending.send_due(now=DUE)
    morning.refresh_from_db()
    assert morning.status == "failed"
    assert "RuntimeError: schedule broke" in morning.last_error
    assert mailoutbox == []


@pytest.fixture
def four_mornings(alice):
    """Four of Alice's morning reminders on 2 March (four one-step plans), planned and pending."""
    for n in range(4):
        MiliaCarePlanFactory(
            patient=alice, name=f"Plan {n}", steps=[dict(slot=schedule.MORNING, instructions="Sunscreen SPF 30")]
        )
    planning.plan_reminders(now=DUE)
    due = Reminder.objects.filter(slot="morning", local_date=dt.date(2027, 3, 2))
    assert due.count() == 4
    return due


def test_a_slow_mail_server_cannot_carry_a_leased_batch_past_the_grace_window(four_mornings):
    due = four_mornings
    closes = DUE + grace()
    # All four are leased 30 s before the window closes; the mail server takes 20 s a message.
    with time_machine.travel(closes - dt.timedelta(seconds=30), tick=False) as clock:
        with mock.patch(LOCMEM_SEND, side_effect=lambda messages: clock.shift(20) or len(messages)) as send:
            assert sending.send_due() == 4
        assert send.call_count == 2
        # Each is stamped when it went out, not when the batch was leased.
        sent = due.filter(status="sent").order_by("sent_at")
        assert [r.sent_at for r in sent] == [closes - dt.timedelta(seconds=30), closes - dt.timedelta(seconds=10)]
        # The other two were never claimed: still pending, and the next pass records why.
        assert sending.send_due() == 0
        assert sending.skip_late(now=timezone.now()) == 2
    assert all(r.startswith("Too late") for r in due.filter(status="skipped").values_list("skip_reason", flat=True))


def test_the_scheduler_loop_survives_a_failed_pass(db, monkeypatch):
    class Stop(Exception):
        pass

    passes, sleeps = [], []

    def run_pass(self, fixed_now, *, plan):
        passes.append(plan)
        if len(passes) == 1:
            raise OperationalError("server closed the connection unexpectedly")

    def sleep(self, seconds):
        sleeps.append(seconds)
        if len(sleeps) == 2:
            raise Stop

    monkeypatch.setattr(run_reminders.Command, "run_pass", run_pass)
    monkeypatch.setattr(run_reminders.Command, "sleep", sleep)
    with pytest.raises(Stop):
        call_command("run_reminders", stdout=mock.Mock())
    # The failed pass was retried, and since it never planned, the next pass plans.
    assert passes == [True, True]


def test_the_scheduler_loop_finishes_its_pass_and_stops_on_sigterm(db, monkeypatch):
    passes = []

    def run_pass(self, fixed_now, *, plan):
        passes.append(plan)
        os.kill(os.getpid(), signal.SIGTERM)  # as honcho does on Ctrl-C

    monkeypatch.setattr(run_reminders.Command, "run_pass", run_pass)
    before = signal.getsignal(signal.SIGTERM)
    call_command("run_reminders", "--no-plan", stdout=mock.Mock())
    assert passes == [False]
    assert signal.getsignal(signal.SIGTERM) == before


def test_a_worker_stops_at_the_end_of_its_lease_and_leaves_the_rest_to_the_next_one(four_mornings):
    due = four_mornings
    # The lease is a minute; each message here takes 40 s.
    with time_machine.travel(DUE + dt.timedelta(minutes=1), tick=False) as clock:
        with mock.patch(LOCMEM_SEND, side_effect=lambda messages: clock.shift(40) or len(messages)) as send:
            assert sending.send_due() == 4
        assert send.call_count == 2
        assert sorted(due.values_list("status", flat=True)) == ["pending", "pending", "sent", "sent"]
        assert sending.recover_stuck(now=timezone.now() + claim_timeout()) == 0  # nothing was left "sending"
        with mock.patch(LOCMEM_SEND, side_effect=lambda messages: len(messages)) as send:
            assert sending.send_due() == 2  # the lease ran out: the rest are due for any worker
        assert send.call_count == 2
    assert list(due.values_list("status", flat=True)) == ["sent"] * 4


def test_a_lease_keeps_other_workers_off_until_it_runs_out(four_mornings):
    due = four_mornings
    now = DUE + dt.timedelta(minutes=1)
    mine = sending.lease(now=now, until=now + sending.LEASE, limit=3)
    assert len(mine) == 3
    theirs = sending.lease(now=now, until=now + sending.LEASE, limit=10)
    assert [r.pk for r in theirs] == [r.pk for r in due.exclude(pk__in=[r.pk for r in mine])]
    assert sending.lease(now=now, until=now + sending.LEASE, limit=10) == []
    later = now + sending.LEASE
    assert len(sending.lease(now=later, until=later + sending.LEASE, limit=10)) == 4
    assert set(due.values_list("status", flat=True)) == {"pending"}  # a lease alone never makes a row "sending"


def test_a_worker_killed_mid_batch_leaves_only_the_message_in_hand_unknown(four_mornings, mailoutbox):
    """SIGKILL in-process: the transport never returns on the third message."""
    due = four_mornings

    class Killed(BaseException):
        pass

    def send_then_die(messages):
        if len(mailoutbox) == 2:
            raise Killed
        mailoutbox.extend(messages)
        return len(messages)

    with mock.patch(LOCMEM_SEND, side_effect=send_then_die), pytest.raises(Killed):
        sending.send_due(now=DUE)
    # Two sent but not yet settled, one in hand, one never claimed.
    assert list(due.order_by("pk").values_list("status", flat=True)) == ["sending", "sending", "sending", "pending"]

    # A pass after the claim timeout: the two the worker claimed another row after were sent; the one in hand is
    # "delivery unknown"; the never-claimed one goes out.
    later = DUE + claim_timeout() + dt.timedelta(minutes=1)
    call_command("run_reminders", "--once", "--now", later.isoformat(), stdout=mock.Mock())
    assert list(due.order_by("pk").values_list("status", flat=True)) == ["sent", "sent", "failed", "sent"]
    assert "delivery is unknown" in due.get(status="failed").last_error
    assert list(due.filter(status="sent").order_by("pk").values_list("sent_at", flat=True)) == [DUE, DUE, later]
    assert len(mailoutbox) == 3


def test_recovery_fails_only_the_last_row_each_dead_worker_claimed(four_mornings):
    """Two workers died: one after claiming three rows of its lease, one after claiming one."""
    due = list(four_mornings.order_by("pk"))
    first, second = uuid.uuid4(), uuid.uuid4()
    for reminder, lease in zip(due, [first, first, first, second], strict=True):
        Reminder.objects.filter(pk=reminder.pk).update(status="sending", lease=lease, claimed_at=DUE)
    assert sending.recover_stuck(now=DUE + claim_timeout()) == 0  # maybe still sending
    assert sending.recover_stuck(now=DUE + claim_timeout() + dt.timedelta(seconds=1)) == 2
    statuses = list(four_mornings.order_by("pk").values_list("status", "attempts"))
    assert statuses == [("sent", 1), ("sent", 1), ("failed", 0), ("failed", 0)]


@pytest.mark.parametrize(
    ("argv", "extra_env", "expected"),
    [
        (["manage.py", "run_reminders"], {}, "-c synchronous_commit=off"),
        (["manage.py", "run_reminders"], {"REMINDER_SYNCHRONOUS_COMMIT": "1"}, None),
        (["manage.py", "runserver"], {}, None),
    ],
)
def test_only_the_worker_commits_asynchronously_on_postgresql(argv, extra_env, expected):
    """The worker's per-send writes need not wait for a disk flush; every other process's writes do."""
    script = f"import sys; sys.argv = {argv!r}; from django.conf import settings; "
    script += "print(settings.DATABASES['default'].get('OPTIONS', {}).get('options'))"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DATABASE_URL": "postgres://portal@db.invalid:5432/portal",  # never connected to
        "DEBUG": "1",
        **extra_env,
    }
    root = Path(__file__).resolve().parent.parent
    out = subprocess.run([sys.executable, "-c", script], cwd=root, env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == str(expected)


@pytest.mark.parametrize(
    ("fields", "due"),
    [
        ({}, True),
        ({"due_at": DUE + dt.timedelta(minutes=1)}, False),  # not yet
        ({"due_at": DUE - grace() - dt.timedelta(seconds=1)}, False),  # too late
        ({"status": "failed", "next_attempt_at": DUE}, True),
        ({"status": "failed", "next_attempt_at": DUE + dt.timedelta(seconds=1)}, False),
        ({"status": "failed", "next_attempt_at": None}, False),  # given up
        ({"status": "sending"}, False),
        ({"status": "sent"}, False),
        ({"status": "skipped"}, False),
    ],
)
def test_a_row_in_hand_is_due_exactly_when_the_query_says_so(morning, fields, due):
    Reminder.objects.filter(pk=morning.pk).update(**fields)
    morning.refresh_from_db()
    assert morning.is_due(DUE) is due
    assert Reminder.objects.due(DUE).filter(pk=morning.pk).exists() is due
