from django.apps import AppConfig


class RemindersConfig(AppConfig):
    name = "reminders"
    verbose_name = "Reminders"

    def ready(self):
        # portal sits below this app and never imports it: plug this app's parts into portal's hooks.
        # (Imported here, not at the top: they read models, which are ready only now.)
        from portal import health, services

        from . import signals  # noqa: F401 (connects its receivers)
        from .health import reminders_health
        from .hooks import forget_delivery_errors

        health.register("reminders", reminders_health)
        services.register_anonymiser(forget_delivery_errors)
