from django.apps import AppConfig


class RoutinesConfig(AppConfig):
    name = "routines"
    verbose_name = "Skincare routines"
    # Collected under /handouts/ by portal/handout_urls.py.
    handout_urls = "routines.handout_urls"

    def ready(self):
        # portal and education sit below this app and never import it: plug this app's parts into their hooks.
        # (Imported here, not at the top: they read models, which are ready only now.)
        from education.models import register_article_uses, register_patient_articles
        from portal import roles
        from portal.admin_site import AdminHome, register_home
        from portal.services import register_anonymiser

        from .hooks import anonymise_plan_history, article_uses, plan_articles
        from .print_desk import print_desk_view
        from .worklist import worklist_view

        register_patient_articles(plan_articles)
        register_article_uses(article_uses)
        register_anonymiser(anonymise_plan_history)
        # The staff roles' admin homes: they read this app's and education's records, so they live here.
        register_home(AdminHome("worklist", "worklist", "Worklist", roles.DERMATOLOGIST, worklist_view))
        register_home(AdminHome("print-desk", "print-desk", "Print desk", roles.FRONT_DESK, print_desk_view))
