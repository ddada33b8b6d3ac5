"""Demo accounts (see SPEC "Stable contract"). Idempotent: get_or_create throughout."""

import datetime as dt

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from . import roles
from .models import Patient

DEMO_PASSWORD = "demo-pass-2026"

STAFF = [
    ("demo-derm", "Dana", "Reyes", roles.DERMATOLOGIST),
    ("demo-desk", "Frank", "Osei", roles.FRONT_DESK),
]
PATIENTS = [
    # username, first, last, chart number, date of birth, email consent
    ("demo-patient", "Maya", "Lind", "DEMO-0001", dt.date(1991, 4, 12), True),
    ("demo-patient2", "Sam", "Okafor", "DEMO-0002", dt.date(1984, 9, 3), True),
]


def _user(username, first, last, email, *, is_staff):
    User = get_user_model()
    user, created = User.objects.get_or_create(
        username=username, defaults={"first_name": first, "last_name": last, "email": email, "is_staff": is_staff}
    )
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save()
    return user


def seed(*, stdout) -> None:
    for username, first, last, group_name in STAFF:
        user = _user(username, first, last, f"{username}@example.org", is_staff=True)
        user.groups.add(Group.objects.get(name=group_name))
    dermatologist = get_user_model().objects.get(username="demo-derm")
    for username, first, last, chart, born, consent in PATIENTS:
        user = _user(username, first, last, f"{username}@example.org", is_staff=False)
        Patient.objects.get_or_create(
            user=user,
            defaults={
                "chart_number": chart,
                "date_of_birth": born,
                "time_zone": "America/New_York",
                "dermatologist": dermatologist,
                "email_consent": consent,
                "morning_reminder_time": dt.time(8, 0),
                "evening_reminder_time": dt.time(20, 30),
            },
        )
    _demo_paciente(dermatologist)
    stdout.write("Demo accounts: demo-derm, demo-desk, demo-patient, demo-patient2, demo-paciente")


def _demo_paciente(dermatologist) -> None:
    """demo-paciente reads Spanish: the portal, emails and PDFs follow `preferred_language`."""
    user = _user("demo-paciente", "Lucía", "Ramírez", "demo-paciente@example.org", is_staff=False)
    Patient.objects.get_or_create(
        user=user,
        defaults={
            "chart_number": "DEMO-0003",
            "date_of_birth": dt.date(1979, 6, 21),
            "time_zone": "America/New_York",
            "preferred_language": "es",
            "dermatologist": dermatologist,
            "email_consent": True,
            "morning_reminder_time": dt.time(7, 30),
            "evening_reminder_time": dt.time(21, 0),
        },
    )
