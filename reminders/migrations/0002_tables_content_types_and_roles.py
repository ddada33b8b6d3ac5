"""Finish the move from `routines`: rename the tables, carry the content types over
(so the staff groups' reminder permissions and any admin log entries follow), re-sync roles."""

from django.db import migrations

from portal.roles import sync_roles

MOVED = ("reminder", "workerheartbeat")


def move_content_types(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in MOVED:
        if not ContentType.objects.filter(app_label="reminders", model=model).exists():
            ContentType.objects.filter(app_label="routines", model=model).update(app_label="reminders")


def move_content_types_back(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label="reminders", model__in=MOVED).update(app_label="routines")


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("portal", "0005_time_zone_choices_on_the_field"),
        ("reminders", "0001_initial"),
        ("routines", "0002_reminders_move_to_their_app"),
    ]

    operations = [
        migrations.AlterModelTable(name="reminder", table=None),
        migrations.AlterModelTable(name="workerheartbeat", table=None),
        migrations.RunPython(move_content_types, move_content_types_back),
        migrations.RunPython(sync_roles, migrations.RunPython.noop),
    ]
