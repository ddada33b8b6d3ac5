from django.db import migrations

from portal.roles import sync_roles


class Migration(migrations.Migration):
    """Create the staff groups with their permissions (portal/roles.py).

    A later migration that adds models calls `sync_roles` again.
    """

    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("portal", "0001_initial"),
        ("education", "0001_initial"),
        ("routines", "0001_initial"),
        ("axes", "0010_accessattemptexpiration"),
    ]

    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop)]
