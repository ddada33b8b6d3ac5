"""Staff handout URLs (/handouts/...), one namespace for every app's printouts.

portal prints the invitation letter; the apps built on it name their own
handout URL module in their AppConfig (`handout_urls = "<app>.handout_urls"`),
included here by name, so portal never imports them.
"""

from django.apps import apps
from django.urls import include, path

from . import views

app_name = "handouts"

urlpatterns = [
    path("patients/<int:patient_id>/invite.pdf", views.invite_handout, name="patient-invite"),
    *(
        path("", include(config.handout_urls))
        for config in apps.get_app_configs()
        if getattr(config, "handout_urls", None)
    ),
]
