from importlib import import_module

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils.module_loading import module_has_submodule


class Command(BaseCommand):
    help = "Load the demo clinic (accounts, articles, routines). Safe to run again: it changes nothing the second time."

    def handle(self, *args, **options):
        # Each app loads its own demo data through `<app>/demo.py:seed()`, found the way the admin finds
        # `admin.py` (so portal imports none of them) and called in INSTALLED_APPS order, so accounts
        # exist before plans use them.
        with transaction.atomic():
            for app_config in apps.get_app_configs():
                if module_has_submodule(app_config.module, "demo"):
                    import_module(f"{app_config.name}.demo").seed(stdout=self.stdout)
        self.stdout.write(self.style.SUCCESS("Demo data is in place. Password for every demo account: demo-pass-2026"))
