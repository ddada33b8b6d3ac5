from django.apps import AppConfig


class RoutinesConfig(AppConfig):
    name = "routines"
    verbose_name = "Skincare routines"
    # Collected under /handouts/ by portal/handout_urls.py.
    handout_urls = "routines.handout_urls"

    def ready(self):
        # portal and education sit below this app and never import it: plug this app's parts into their hooks.
        # (Imported here, not at the top: they read models, which are ready only now.)
        from education.models import register_patient_articles
        from portal.services import register_anonymiser

        from .hooks import anonymise_plan_history, plan_articles

        register_patient_articles(plan_articles)
        register_anonymiser(anonymise_plan_history)
