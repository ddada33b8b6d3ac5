from importlib import import_module

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction


class Command(BaseCommand):
    help = "Load the demo clinic (accounts, articles, routines). Safe to run again: it changes nothing the second time."

    def handle(self, *args, **options):
        # Each app contributes its own demo data through `<app>/demo.py:seed()`,
        # called in INSTALLED_APPS order so accounts exist before plans use them.
        with transaction.atomic():
            for app_config in apps.get_app_configs():
                try:
                    demo = import_module(f"{app_config.name}.demo")
                except ModuleNotFoundError as exc:
                    if exc.name != f"{app_config.name}.demo":
                        raise
                    continue
                demo.seed(stdout=self.stdout)
        self.stdout.write(self.style.SUCCESS("Demo data is in place. Password for every demo account: demo-pass-2026"))
