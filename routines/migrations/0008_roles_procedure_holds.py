from django.db import migrations

from portal.roles import sync_roles


class Migration(migrations.Migration):
    """Give the staff groups their rights on procedures and procedure types (portal/roles.py)."""

    dependencies = [
        ("routines", "0007_procedure_holds"),
    ]

    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop)]
