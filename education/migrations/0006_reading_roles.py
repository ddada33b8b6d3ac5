from django.db import migrations

from portal.roles import sync_roles


class Migration(migrations.Migration):
    """Dermatologists write teach-back questions and see patients' reading; the front desk views questions."""

    dependencies = [
        ("education", "0005_reading_and_teach_back"),
    ]

    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop)]
