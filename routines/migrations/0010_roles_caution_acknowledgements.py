from django.db import migrations

from portal.roles import sync_roles


class Migration(migrations.Migration):
    """Let the staff groups read caution acknowledgements (portal/roles.py)."""

    dependencies = [("routines", "0009_caution_acknowledgements")]

    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop)]
