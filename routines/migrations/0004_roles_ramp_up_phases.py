from django.db import migrations

from portal.roles import sync_roles


class Migration(migrations.Migration):
    """Give the staff groups their rights on ramp-up phases (portal/roles.py)."""

    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("portal", "0003_roles_unlock_and_audit"),
        ("routines", "0003_ramp_up_phases"),
    ]

    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop)]
