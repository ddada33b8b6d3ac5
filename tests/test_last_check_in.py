"""`Patient.last_check_in_on`: the date of the patient's latest tick, kept with every tick.

Staff lists sort and filter on it ("not checked in for 3+ days"), so it must stay
right whatever happens: ticks and unticks, simultaneous taps, plan changes, a
patient removed.
"""

import datetime as dt
import threading

import pytest
from django.db import connection

from portal.models import Patient
from routines.models import Plan, StepCheck
from routines.services import assign_routine
from tests.factories import TODAY, PatientFactory, PlanFactory, RoutineTemplateFactory, StepCheckFactory

pytestmark = pytest.mark.usefixtures("frozen")


def stored(patient) -> dt.date | None:
    return Patient.objects.values_list("last_check_in_on", flat=True).get(pk=patient.pk)


def tick(client, step):
    return client.post(f"/plan/steps/{step.pk}/check/")


def test_a_tick_through_the_today_page_stores_the_patients_local_date(alice_client, alice, bob):
    step = PlanFactory(patient=alice).steps.first()
    assert stored(alice) is None
    assert tick(alice_client, step).status_code == 302
    assert stored(alice) == TODAY
    assert stored(bob) is None  # nobody else's date moves


def test_unticking_falls_back_to_the_latest_tick_left_or_to_never(alice):
    step = PlanFactory(patient=alice, start_date=TODAY - dt.timedelta(days=5)).steps.first()
    StepCheckFactory(step=step, local_date=TODAY - dt.timedelta(days=2))
    assert StepCheck.objects.toggle(step=step, day=TODAY) is True
    assert stored(alice) == TODAY
    assert StepCheck.objects.toggle(step=step, day=TODAY) is False
    assert stored(alice) == TODAY - dt.timedelta(days=2)
    assert StepCheck.objects.toggle(step=step, day=TODAY - dt.timedelta(days=2)) is False
    assert stored(alice) is None


def test_a_new_plan_keeps_the_date_of_the_last_tick_on_the_old_one(alice, derm):
    old = PlanFactory(patient=alice, start_date=TODAY - dt.timedelta(days=10))
    StepCheck.objects.toggle(step=old.steps.first(), day=TODAY - dt.timedelta(days=1))
    new = assign_routine(patient=alice, template=RoutineTemplateFactory(), start_date=TODAY, assigned_by=derm)
    assert Plan.objects.get(pk=old.pk).end_date == TODAY - dt.timedelta(days=1)
    assert stored(alice) == TODAY - dt.timedelta(days=1)
    StepCheck.objects.toggle(step=new.steps.first(), day=TODAY)
    assert stored(alice) == TODAY


def test_a_step_removed_by_the_dermatologist_leaves_the_day_the_patient_checked_in(alice):
    """The patient did check in that day; the dermatologist editing the plan later does not undo it."""
    plan = PlanFactory(patient=alice, steps=2)
    first, second = plan.ordered_steps()
    StepCheck.objects.toggle(step=first, day=TODAY)
    first.delete()
    assert stored(alice) == TODAY
    StepCheck.objects.toggle(step=second, day=TODAY)
    StepCheck.objects.toggle(step=second, day=TODAY)  # an untick recounts from the ticks left: none
    assert stored(alice) is None


def test_removing_a_patient_removes_their_date_and_leaves_others_alone(alice, bob):
    for patient in (alice, bob):
        StepCheck.objects.toggle(step=PlanFactory(patient=patient).steps.first(), day=TODAY)
    alice.user.delete()
    assert not Patient.objects.filter(pk=alice.pk).exists()
    assert stored(bob) == TODAY


def test_the_migration_fills_the_date_from_ticks_already_stored(db):
    """Ticks written in bulk (demo data, old rows) get their date from `record_last_check_ins` (as migration 0007)."""
    ticked, quiet = PatientFactory(), PatientFactory()
    step = PlanFactory(patient=ticked, start_date=TODAY - dt.timedelta(days=9)).steps.first()
    StepCheck.objects.bulk_create(StepCheck(step=step, local_date=TODAY - dt.timedelta(days=n)) for n in (3, 7))
    assert stored(ticked) is None  # bulk writes skip it ...
    assert StepCheck.objects.record_last_check_ins(Patient.objects.all()) == 2
    assert stored(ticked) == TODAY - dt.timedelta(days=3)  # ... until recorded
    assert stored(quiet) is None


@pytest.mark.django_db(transaction=True)
def test_simultaneous_ticks_on_two_phones_leave_the_latest_date():
    """One step ticked while another is unticked, at once from two phones, over and over: the date ends right."""
    if connection.vendor == "sqlite":
        pytest.skip("needs a database that waits for locks (CI runs this on PostgreSQL)")
    patient = PatientFactory()
    first, second = PlanFactory(patient=patient, steps=2).ordered_steps()
    barrier, errors = threading.Barrier(2), []

    def phone(step, taps):
        try:
            barrier.wait()
            for _ in range(taps):
                StepCheck.objects.toggle(step=step, day=TODAY)
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    StepCheck.objects.toggle(step=second, day=TODAY)
    threads = [threading.Thread(target=phone, args=args) for args in ((first, 5), (second, 5))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    # The first step ends ticked and the second unticked: an untick's recount must still see the first.
    assert list(StepCheck.objects.filter(step__plan__patient=patient).values_list("step", flat=True)) == [first.pk]
    assert stored(patient) == TODAY
