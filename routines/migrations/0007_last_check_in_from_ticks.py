from django.db import migrations, models


def record_last_check_ins(apps, schema_editor):
    """Fill `Patient.last_check_in_on` from the ticks already stored (as `StepCheck.objects.record_last_check_ins`)."""
    Patient = apps.get_model("portal", "Patient")
    StepCheck = apps.get_model("routines", "StepCheck")
    ticks = StepCheck.objects.filter(step__plan__patient=models.OuterRef("pk")).order_by()
    latest = ticks.values("step__plan__patient").annotate(latest=models.Max("local_date")).values("latest")
    Patient.objects.update(last_check_in_on=models.Subquery(latest))


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0007_reminder_choices_and_last_check_in"),
        ("routines", "0006_spanish_text_and_step_articles"),
    ]

    operations = [migrations.RunPython(record_last_check_ins, migrations.RunPython.noop)]
