"""Exporting the access log is a permission of its own, granted to dermatologists (portal.roles)."""

from django.db import migrations

from portal.roles import sync_roles


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("portal", "0007_reminder_choices_and_last_check_in"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="accesslog",
            options={"ordering": ["-at"], "permissions": [("export_accesslog", "Can export the access log as a file")]},
        ),
        migrations.RunPython(sync_roles, migrations.RunPython.noop),
    ]
