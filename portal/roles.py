"""Staff roles. Rights come from two groups, created by data migrations.

Each app that adds models adds a migration calling `sync_roles`, so the
groups always hold exactly the permissions listed here.
"""

DERMATOLOGIST = "Dermatologist"
FRONT_DESK = "Front desk"

# (app_label, model, actions) per group; custom permissions by codename.
ROLE_PERMISSIONS = {
    DERMATOLOGIST: {
        "models": [
            ("portal", "patient", ("view", "add", "change")),
            ("portal", "invitation", ("view",)),
            ("portal", "accesslog", ("view",)),
            ("education", "condition", ("view", "add", "change", "delete")),
            ("education", "article", ("view", "add", "change", "delete")),
            ("education", "articleread", ("view",)),
            ("education", "teachbackanswer", ("view",)),
            ("routines", "product", ("view", "add", "change", "delete")),
            ("routines", "routinetemplate", ("view", "add", "change", "delete")),
            ("routines", "templatestep", ("view", "add", "change", "delete")),
            ("routines", "plan", ("view", "add", "change", "delete")),
            ("routines", "planstep", ("view", "add", "change", "delete")),
            ("routines", "templatephase", ("view", "add", "change", "delete")),
            ("routines", "planphase", ("view", "add", "change", "delete")),
            ("routines", "conflictrule", ("view", "add", "change", "delete")),
            ("routines", "proceduretype", ("view", "add", "change", "delete")),
            ("routines", "procedure", ("view", "add", "change", "delete")),
            ("routines", "cautionacknowledgement", ("view",)),
            ("routines", "skincheckin", ("view",)),
            ("routines", "irritationflag", ("view", "change")),
            ("routines", "stepcheck", ("view",)),
            ("reminders", "reminder", ("view", "change")),
            ("axes", "accessattempt", ("view", "delete")),
        ],
        "custom": [
            ("portal", "invite_patient"),
            ("portal", "print_handout"),
            ("portal", "export_accesslog"),
            ("education", "publish_article"),
        ],
    },
    FRONT_DESK: {
        "models": [
            ("portal", "patient", ("view", "add", "change")),
            ("portal", "invitation", ("view",)),
            ("education", "condition", ("view",)),
            ("education", "article", ("view",)),
            ("routines", "product", ("view",)),
            ("routines", "routinetemplate", ("view",)),
            ("routines", "templatestep", ("view",)),
            ("routines", "plan", ("view",)),
            ("routines", "planstep", ("view",)),
            ("routines", "templatephase", ("view",)),
            ("routines", "planphase", ("view",)),
            ("routines", "conflictrule", ("view",)),
            ("routines", "proceduretype", ("view",)),
            # The desk books, moves and cancels procedures; the type's hold rules are clinical.
            ("routines", "procedure", ("view", "add", "change", "delete")),
            ("routines", "cautionacknowledgement", ("view",)),
            ("reminders", "reminder", ("view",)),
            ("axes", "accessattempt", ("view", "delete")),
        ],
        "custom": [
            ("portal", "invite_patient"),
            ("portal", "print_handout"),
        ],
    },
}


def sync_roles(apps, schema_editor):
    """Data-migration step: create the groups and set their permissions.

    Permissions of models that do not exist yet are skipped; the migration
    that adds them calls this again.
    """
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group_name, spec in ROLE_PERMISSIONS.items():
        wanted = [(app, f"{action}_{model}") for app, model, actions in spec["models"] for action in actions]
        wanted += spec["custom"]
        perms = [
            perm
            for app, codename in wanted
            for perm in Permission.objects.filter(content_type__app_label=app, codename=codename)
        ]
        group, _ = Group.objects.get_or_create(name=group_name)
        group.permissions.set(perms)
