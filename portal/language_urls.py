from django.urls import include, path

from . import language

# Before login (and for staff) Django's own set_language keeps the choice in a cookie;
# a signed-in patient's choice is saved on their record.
urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/language/", language.set_language, name="set-language"),
]
