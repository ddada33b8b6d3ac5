"""Upgrading keeps the change history django-auditlog recorded, as simple-history rows.

The entries below are what django-auditlog 3.4.1 wrote for these saves (text values,
"None" for null, naive UTC datetimes, reverse relations and the calendar token
included on creation and deletion).
"""

import datetime as dt
import importlib

import pytest
from django.db import connection

BEFORE = [("portal", "0006_historicalpatient"), ("routines", "0003_historicalplan_historicalplanstep")]
CONVERSION = ("routines", "0004_history_from_auditlog")
CREATE, UPDATE, DELETE, ACCESS = 0, 1, 2, 3


def at(minute: int) -> dt.datetime:
    return dt.datetime(2026, 3, 2, 9, minute, tzinfo=dt.UTC)


@pytest.fixture
def old_state(migrator):
    return migrator.apply_initial_migration(BEFORE)


@pytest.fixture
def legacy_log(old_state):
    """Make django-auditlog's table with the model the conversion reads it through; yield a function adding rows."""
    migration = importlib.import_module(f"{CONVERSION[0]}.migrations.{CONVERSION[1]}").Migration
    state = old_state.clone()
    migration.operations[0].state_forwards(CONVERSION[0], state)  # the CreateModel of LegacyLogEntry
    entry_model = state.apps.get_model("routines", "LegacyLogEntry")
    content_types = old_state.apps.get_model("contenttypes", "ContentType").objects
    with connection.schema_editor() as editor:
        editor.create_model(entry_model)

    def log(app_label, model, pk, action, changes, *, actor, minute):
        content_type, _ = content_types.get_or_create(app_label=app_label, model=model)
        entry_model.objects.create(
            content_type_id=content_type.pk,
            object_pk=str(pk),
            action=action,
            changes=changes,
            actor_id=actor.pk if actor else None,
            timestamp=at(minute),
        )

    yield log
    with connection.schema_editor() as editor:
        editor.delete_model(entry_model)


def test_it_turns_auditlog_entries_into_full_historical_copies(migrator, old_state, legacy_log):
    apps = old_state.apps
    User = apps.get_model("auth", "User")
    derm, desk, user = (User.objects.create(username=name) for name in ("drx", "desk", "pat"))
    patient = apps.get_model("portal", "Patient").objects.create(
        user=user,
        chart_number="C-77",
        date_of_birth=dt.date(1980, 5, 6),
        phone="555-0002",
        dermatologist=derm,
        reminders_paused=True,
        paused_until=dt.date(2026, 5, 1),
        calendar_token="secret-token",
    )
    plan = apps.get_model("routines", "Plan").objects.create(
        patient=patient, name="Milia care", start_date=dt.date(2026, 3, 2), assigned_by=derm
    )
    step = apps.get_model("routines", "PlanStep").objects.create(
        plan=plan, instructions="Glycolic", slot="evening", frequency="every_n_days", interval_days=3
    )
    gone_id = step.pk + 1
    created = {
        "id": ["None", str(patient.pk)],
        "user": ["None", str(user.pk)],
        "chart_number": ["None", "C-77"],
        "date_of_birth": ["None", "1980-05-06"],
        "phone": ["None", "555-0001"],
        "reminders_paused": ["None", "False"],
        "morning_reminder_time": ["None", "08:00:00"],
        "calendar_token": ["None", "old-secret"],
        "created_at": ["None", "2026-03-02 09:00:00.250000"],
        "dermatologist": ["None", str(derm.pk)],
        "plans": ["None", "routines.Plan.None"],
    }
    legacy_log("portal", "patient", patient.pk, CREATE, created, actor=desk, minute=0)
    changed = {
        "phone": ["555-0001", "555-0002"],
        "reminders_paused": ["False", "True"],
        "paused_until": ["None", "2026-05-01"],
    }
    legacy_log("portal", "patient", patient.pk, UPDATE, changed, actor=derm, minute=5)
    legacy_log("portal", "patient", patient.pk, ACCESS, None, actor=derm, minute=6)
    assigned = {
        "id": ["None", str(plan.pk)],
        "patient": ["None", str(patient.pk)],
        "template": ["None", "None"],
        "name": ["None", "Milia care for Pat"],
        "start_date": ["None", "2026-03-02"],
        "end_date": ["None", "2026-06-01"],
        "assigned_by": ["None", str(derm.pk)],
    }
    legacy_log("routines", "plan", plan.pk, CREATE, assigned, actor=derm, minute=10)
    renamed = {"name": ["Milia care for Pat", "Milia care"], "end_date": ["2026-06-01", "None"]}
    legacy_log("routines", "plan", plan.pk, UPDATE, renamed, actor=derm, minute=20)
    for pk, minute, instructions in [(step.pk, 11, "Glycolic"), (gone_id, 12, "Cleanse")]:
        step_values = {
            "id": str(pk),
            "plan": str(plan.pk),
            "instructions": instructions,
            "slot": "evening",
            "frequency": "every_n_days",
            "interval_days": "2",
            "product": "None",
            "checks": "routines.StepCheck.None",
        }
        legacy_log(
            "routines",
            "planstep",
            pk,
            CREATE,
            {k: ["None", v] for k, v in step_values.items()},
            actor=derm,
            minute=minute,
        )
    legacy_log("routines", "planstep", step.pk, UPDATE, {"interval_days": ["2", "3"]}, actor=derm, minute=15)
    deleted = {k: [v, "None"] for k, v in step_values.items()}  # the last one's values: the gone step's
    legacy_log("routines", "planstep", gone_id, DELETE, deleted, actor=None, minute=30)
    legacy_log("routines", "planstep", 999, UPDATE, {"caution": ["", "x"]}, actor=derm, minute=31)  # gone, no deletion
    legacy_log("education", "article", 1, CREATE, {"title": ["None", "Milia"]}, actor=derm, minute=40)

    apps = migrator.apply_tested_migration(CONVERSION).apps

    history = apps.get_model("portal", "HistoricalPatient").objects.order_by("history_id")
    created, changed = history
    assert (created.history_type, created.history_date, created.history_user_id) == ("+", at(0), desk.pk)
    assert (created.phone, created.reminders_paused, created.paused_until) == ("555-0001", False, None)
    assert created.created_at == dt.datetime(2026, 3, 2, 9, 0, 0, 250000, tzinfo=dt.UTC)
    assert (created.chart_number, created.user_id, created.dermatologist_id) == ("C-77", user.pk, derm.pk)
    assert (changed.history_type, changed.history_date, changed.history_user_id) == ("~", at(5), derm.pk)
    assert (changed.phone, changed.reminders_paused, changed.paused_until) == ("555-0002", True, dt.date(2026, 5, 1))
    assert not hasattr(changed, "calendar_token")

    plans = apps.get_model("routines", "HistoricalPlan").objects.order_by("history_id")
    assert [(p.history_type, p.name, p.end_date, p.patient_id) for p in plans] == [
        ("+", "Milia care for Pat", dt.date(2026, 6, 1), patient.pk),
        ("~", "Milia care", None, patient.pk),
    ]
    steps = apps.get_model("routines", "HistoricalPlanStep").objects.order_by("history_id")
    assert [(s.id, s.history_type, s.instructions, s.interval_days, s.history_date) for s in steps] == [
        (step.pk, "+", "Glycolic", 2, at(11)),
        (gone_id, "+", "Cleanse", 2, at(12)),
        (step.pk, "~", "Glycolic", 3, at(15)),
        (gone_id, "-", "Cleanse", 2, at(30)),
    ]
    deletion = steps.get(history_type="-")
    assert (deletion.history_user_id, deletion.plan_id, deletion.offset_days) == (None, plan.pk, 0)  # 0: the default


def test_it_converts_nothing_on_a_database_that_never_had_auditlog(migrator, old_state):
    User = old_state.apps.get_model("auth", "User")
    old_state.apps.get_model("portal", "Patient").objects.create(
        user=User.objects.create(username="pat"), chart_number="C-1", date_of_birth=dt.date(1980, 1, 1)
    )
    apps = migrator.apply_tested_migration(CONVERSION).apps
    assert not apps.get_model("portal", "HistoricalPatient").objects.exists()
