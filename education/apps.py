from django.apps import AppConfig


class EducationConfig(AppConfig):
    name = "education"
    verbose_name = "Patient education"
    # Collected under /handouts/ by portal/handout_urls.py.
    handout_urls = "education.handout_urls"
