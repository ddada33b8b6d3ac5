from django.db import migrations

from portal.roles import sync_roles


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0002_roles"),
        ("axes", "0010_accessattemptexpiration"),
        ("auditlog", "__latest__"),
    ]

    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop)]
