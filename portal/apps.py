from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Clinic portal"
    default = True


class PortalAdminConfig(admin_apps.AdminConfig):
    """Django's admin app, with our admin site (optional staff two-factor)."""

    default = False
    default_site = "portal.admin_site.PortalAdminSite"
