import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.core.management import CommandError, call_command

from portal.models import AccessLog, Patient
from reminders.models import Reminder
from routines import schedule
from routines.models import Plan
from tests.factories import (
    TODAY,
    CautionAcknowledgementFactory,
    PlanFactory,
    PlanPhaseFactory,
    ReminderFactory,
    StepCheckFactory,
)

ROOT = Path(__file__).resolve().parent.parent


def test_it_exports_one_patients_record_and_nobody_elses(alice, bob, tmp_path, rf):
    request = rf.get("/plan/")
    request.user = alice.user
    AccessLog.objects.record(request, patient=alice, action=AccessLog.VIEW, what="Plan")
    out = tmp_path / "alice.json"
    call_command("export_patient", alice.chart_number, output=str(out), stdout=io.StringIO())
    record = json.loads(out.read_text())
    assert record["patient"]["chart_number"] == alice.chart_number
    assert record["user"]["email"] == "alice@example.org"
    assert len(record["access_log"]) == 1
    assert "bob" not in out.read_text()
    assert "calendar_token" not in record["patient"]


def test_it_exports_ticks_and_ramp_up_phases_of_the_plan_steps(alice, bob, tmp_path):
    plan = PlanFactory(patient=alice, steps=2)
    step = plan.steps.first()
    StepCheckFactory(step=step, local_date=TODAY)
    PlanPhaseFactory(step=step, order=0, days=14, frequency=schedule.EVERY_N_DAYS, interval_days=3)
    StepCheckFactory(step=PlanFactory(patient=bob, steps=1).steps.get(), local_date=TODAY)
    out = tmp_path / "alice.json"
    call_command("export_patient", alice.chart_number, output=str(out), stdout=io.StringIO())
    record = json.loads(out.read_text())
    assert [(c["step"], c["local_date"]) for c in record["plans.steps.checks"]] == [(step.pk, TODAY.isoformat())]
    assert [(p["step"], p["days"]) for p in record["plans.steps.phases"]] == [(step.pk, 14)]
    assert len(record["plans.steps"]) == 2


def test_it_exports_rows_that_point_at_the_patient_and_a_plan_once(alice, tmp_path):
    """Reminders and caution acknowledgements hang off the patient and off a plan (or its step)."""
    step = PlanFactory(patient=alice, steps=1).steps.get()
    ReminderFactory(plan=step.plan)
    CautionAcknowledgementFactory(step=step)
    out = tmp_path / "alice.json"
    call_command("export_patient", alice.chart_number, output=str(out), stdout=io.StringIO())
    record = json.loads(out.read_text())
    assert len(record["reminders"]) == 1 and len(record["caution_acknowledgements"]) == 1
    everywhere = [row for rows in record.values() if isinstance(rows, list) for row in rows]
    assert sum(row["model"] == "reminders.reminder" for row in everywhere) == 1
    assert sum(row["model"] == "routines.cautionacknowledgement" for row in everywhere) == 1


def test_it_refuses_an_unknown_chart_number(db):
    with pytest.raises(CommandError, match="No patient"):
        call_command("export_patient", "NOPE")


def test_it_anonymises_a_patient_but_keeps_the_access_log(alice, rf):
    request = rf.get("/plan/")
    request.user = alice.user
    AccessLog.objects.record(request, patient=alice, action=AccessLog.VIEW, what="Plan")
    with pytest.raises(CommandError, match="--yes"):
        call_command("remove_patient", alice.chart_number)
    assert Patient.objects.get(pk=alice.pk).user.email == "alice@example.org"

    call_command("remove_patient", alice.chart_number, yes=True, stdout=io.StringIO())
    alice.refresh_from_db()
    alice.user.refresh_from_db()
    assert alice.user.email == "" and alice.user.first_name == ""
    assert not alice.user.is_active and not alice.user.has_usable_password()
    assert alice.chart_number.startswith("REMOVED-")
    assert AccessLog.objects.filter(patient=alice).count() == 1


def test_it_leaves_nothing_identifying_in_the_history_or_login_records(alice, derm, desk_client):
    # A staff edit (history with old values), a failed login, a delivery error quoting the address.
    data = {
        "first_name": "Alice",
        "last_name": alice.user.last_name,
        "email": alice.user.email,
        "chart_number": alice.chart_number,
        "date_of_birth": "1990-01-01",
        "phone": "555-0199",
        "time_zone": alice.time_zone,
        "preferred_language": alice.preferred_language,
        "dermatologist": derm.pk,
        "morning_reminder_time": "08:00",
        "evening_reminder_time": "20:30",
    }
    assert desk_client.post(f"/admin/portal/patient/{alice.pk}/change/", data).status_code == 302
    AccessAttempt.objects.create(username="Alice@Example.org", ip_address="10.0.0.9", failures_since_start=1)
    plan = PlanFactory(patient=alice, steps=1)
    ReminderFactory(plan=plan, status="failed", last_error="Recipient refused: alice@example.org")
    identifying = ["alice", "Alice", alice.chart_number, "555-0199", "1990-01-01"]
    # The admin's access log named records before it used ids: rows from then are still there.
    AccessLog.objects.create(user=derm, patient=alice, action=AccessLog.VIEW, what=f"Admin patient: {alice}")
    AccessLog.objects.create(user=derm, patient=alice, action=AccessLog.VIEW, what=f"Admin plan: {plan}")

    call_command("remove_patient", alice.chart_number, yes=True, stdout=io.StringIO())

    history = [*alice.history.values(), *Plan.history.filter(patient=alice).values()]
    assert len(history) >= 3  # alice's copies (made, edited by staff, removed) and the plan's
    text = json.dumps(history, default=str)
    assert not [word for word in identifying if word in text]
    assert not AccessAttempt.objects.exists()
    assert "alice" not in Reminder.objects.get().last_error
    logged = list(AccessLog.objects.filter(patient=alice).values_list("what", flat=True))
    assert not [row for row in logged if any(word in row for word in identifying)]
    assert sorted(logged)[:2] == ["Admin patient: (removed with the patient)", "Admin plan: (removed with the patient)"]


def test_it_deletes_a_patient_keeping_detached_access_log_rows(alice, rf):
    request = rf.get("/plan/")
    request.user = alice.user
    AccessLog.objects.record(request, patient=alice, action=AccessLog.VIEW, what="Plan")
    call_command("remove_patient", alice.chart_number, delete=True, yes=True, stdout=io.StringIO())
    assert not Patient.objects.filter(pk=alice.pk).exists()
    assert AccessLog.objects.filter(what="Plan", patient__isnull=True).count() == 1


def test_it_refuses_to_change_or_delete_access_log_rows(alice, rf):
    request = rf.get("/plan/")
    request.user = alice.user
    row = AccessLog.objects.record(request, patient=alice, action=AccessLog.VIEW, what="Plan")
    row.what = "tampered"
    with pytest.raises(ValueError):
        row.save()
    with pytest.raises(ValueError):
        row.delete()


def manage(*args, env):
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_it_backs_up_sqlite_and_the_backup_restores(tmp_path):
    """The restore drill: back up a live SQLite database, then run the portal on the copy."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DATABASE_TEST_NAME")}
    env.update(DEBUG="1", DATABASE_URL=f"sqlite:///{tmp_path / 'live.sqlite3'}", VAR_DIR=str(tmp_path / "var"))
    assert manage("migrate", "--noinput", env=env).returncode == 0
    assert manage("seed_demo", env=env).returncode == 0
    backup = tmp_path / "backup.sqlite3"
    result = manage("backup_db", "--output", str(backup), env=env)
    assert result.returncode == 0, result.stderr
    assert backup.stat().st_mode & 0o777 == 0o600  # every patient's record: owner only

    restored = {**env, "DATABASE_URL": f"sqlite:///{backup}"}
    check = manage(
        "shell",
        "-c",
        "from portal.models import Patient; print(Patient.objects.get(user__username='demo-patient'))",
        env=restored,
    )
    assert check.returncode == 0, check.stderr
    assert "DEMO-0001" in check.stdout
    assert "No migrations to apply" in manage("migrate", "--noinput", env=restored).stdout


def test_it_refuses_to_back_up_a_missing_sqlite_database(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DATABASE_TEST_NAME")}
    env.update(DEBUG="1", DATABASE_URL=f"sqlite:///{tmp_path / 'gone.sqlite3'}", VAR_DIR=str(tmp_path / "var"))
    result = manage("backup_db", env=env)
    assert result.returncode != 0 and "There is no SQLite database" in result.stderr
    assert not (tmp_path / "gone.sqlite3").exists()
    assert not list((tmp_path / "var" / "backups").glob("*.sqlite3"))


def test_it_keeps_secret_calendar_tokens_out_of_the_access_log(alice, client):
    token = alice.calendar_token
    assert client.get(f"/reminders/calendar/{token}.ics").status_code == 200
    row = AccessLog.objects.get(patient=alice, what="Reminder calendar feed")
    assert token not in row.path
    assert row.path == "/reminders/calendar/<token>.ics"


def test_it_logs_every_staff_view_of_a_patient_record_in_the_admin(desk_client, desk, alice):
    assert desk_client.get(f"/admin/portal/patient/{alice.pk}/change/").status_code == 200
    row = AccessLog.objects.get(patient=alice, user=desk)
    assert row.action == AccessLog.VIEW
    assert row.what == f"Admin patient #{alice.pk}"


def test_it_logs_nothing_for_a_refused_admin_view(client, bob, alice):
    client.force_login(bob.user)
    client.get(f"/admin/portal/patient/{alice.pk}/change/")
    assert not AccessLog.objects.filter(patient=alice).exists()


def test_it_records_who_changed_a_patient_record(derm_client, derm, alice):
    response = derm_client.post(
        f"/admin/portal/patient/{alice.pk}/change/",
        {
            "first_name": "Alice",
            "last_name": "Tester",
            "email": "alice@example.org",
            "chart_number": alice.chart_number,
            "date_of_birth": "1990-01-01",
            "phone": "555-0101",
            "dermatologist": derm.pk,
            "time_zone": "America/New_York",
            "preferred_language": "en",
            "email_consent": "on",
            "morning_reminder_time": "08:00",
            "evening_reminder_time": "20:30",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    copy = alice.history.latest()
    assert copy.history_user == derm
    assert (copy.prev_record.phone, copy.phone) == ("", "555-0101")
