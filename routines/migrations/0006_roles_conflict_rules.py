from django.db import migrations

from portal.roles import sync_roles


class Migration(migrations.Migration):
    """Give the staff groups their rights on conflict rules (portal/roles.py)."""

    dependencies = [
        ("routines", "0005_conflict_rules"),
        ("routines", "0004_roles_ramp_up_phases"),
    ]

    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop)]
