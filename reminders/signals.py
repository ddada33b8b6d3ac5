"""Ask planning to plan reminders again whenever something that decides which steps are due changes.

Connected in RemindersConfig.ready(). Each receiver writes ReplanRequest rows in
the transaction of the change, so planning (reminders/planning.py) sees both or
neither. Saves and deletes alike: a removed procedure ends a hold, a removed plan
takes its digest rows with it that another running plan may now have to send.
"""

from collections.abc import Iterable

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from portal.models import Patient
from routines.models import IrritationFlag, Plan, PlanPhase, PlanStep, Procedure, ProcedureType, Product
from routines.signals import schedule_changed

from .models import ReplanRequest


def request_replan(patient_ids: Iterable[int | None]) -> None:
    """Ask the next planning pass to plan these patients (ReplanRequest.EVERYONE: all of them) over the whole window."""
    ReplanRequest.objects.bulk_create(ReplanRequest(patient_id=pk) for pk in set(patient_ids))


@receiver(post_save, sender=Patient)
def patient_saved(sender, instance: Patient, **kwargs) -> None:
    # Reminder times, zone or consent may have changed (the settings page also re-plans at once).
    request_replan([instance.pk])


@receiver([post_save, post_delete], sender=Plan)
@receiver([post_save, post_delete], sender=Procedure)
@receiver([post_save, post_delete], sender=IrritationFlag)
def patients_row_changed(sender, instance: Plan | Procedure | IrritationFlag, **kwargs) -> None:
    request_replan([instance.patient_id])


@receiver([post_save, post_delete], sender=PlanStep)
def step_changed(sender, instance: PlanStep, **kwargs) -> None:
    # Gone with its plan in a cascade: the plan's own delete asked already.
    request_replan(Plan.objects.filter(pk=instance.plan_id).values_list("patient_id", flat=True))


@receiver([post_save, post_delete], sender=PlanPhase)
def phase_changed(sender, instance: PlanPhase, **kwargs) -> None:
    request_replan(Plan.objects.filter(steps=instance.step_id).values_list("patient_id", flat=True))


@receiver([post_save, post_delete], sender=Product)
@receiver([post_save, post_delete], sender=ProcedureType)
def hold_rule_changed(sender, instance: Product | ProcedureType, created: bool = False, **kwargs) -> None:
    # Which steps a procedure pauses depends on the products' ingredients and the types' rules: any plan may
    # change. A new one is in no plan or procedure yet.
    if not created:
        request_replan([ReplanRequest.EVERYONE])


@receiver(schedule_changed)
def schedule_changed_without_save(sender, *, patient_ids: Iterable[int], **kwargs) -> None:
    request_replan(patient_ids)
