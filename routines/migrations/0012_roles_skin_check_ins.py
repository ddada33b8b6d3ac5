from django.db import migrations

from portal.roles import sync_roles


class Migration(migrations.Migration):
    """Let dermatologists read skin check-ins and review irritation flags (portal/roles.py)."""

    dependencies = [("routines", "0011_skin_check_ins")]

    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop)]
