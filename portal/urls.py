from django.contrib import admin
from django.urls import include, path

from . import views

# The apps built on portal are included by name: the root URLconf imports none of them.
urlpatterns = [
    path("", include("routines.home_urls")),
    path("healthz", views.healthz, name="healthz"),
    path("", include("portal.language_urls")),
    path("accounts/activate/<str:token>/", views.activate, name="activate"),
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path("accounts/password_reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("", include("routines.urls")),
    path("learn/", include("education.urls")),
    path("reminders/", include("reminders.urls")),
    path("handouts/", include("portal.handout_urls")),
]
