import io
import os
import subprocess
import sys
from pathlib import Path

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command

from portal.models import Patient

ROOT = Path(__file__).resolve().parent.parent


def run_settings(env_overrides):
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG", "PORTAL_BASE_URL")}
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "portal.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_it_refuses_to_start_without_a_secret_key_when_debug_is_off():
    result = run_settings({"DEBUG": "0"})
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_it_lets_code_only_commands_run_without_a_secret_key_but_nothing_else():
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG", "DATABASE_URL")}
    env.update(DJANGO_SETTINGS_MODULE="portal.settings")

    def manage(*args):
        return subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
        )

    assert manage("makemigrations", "--check", "--dry-run").returncode == 0
    refused = manage("run_reminders", "--once")
    assert refused.returncode != 0
    assert "SECRET_KEY is not set" in refused.stderr


def test_it_starts_with_a_secret_key_or_in_debug():
    production = {"DEBUG": "0", "SECRET_KEY": "x" * 60, "PORTAL_BASE_URL": "https://portal.example.org"}
    assert run_settings(production).returncode == 0
    assert run_settings({"DEBUG": "1"}).returncode == 0


def test_it_refuses_to_start_in_production_with_links_no_patient_can_open():
    production = {"DEBUG": "0", "SECRET_KEY": "x" * 60}
    for base_url, problem in (
        (None, "public https:// address"),  # unset: the loopback default
        ("http://portal.example.org", "public https:// address"),
        ("https://127.0.0.1:8000", "loopback or private"),
        ("https://10.1.2.3", "loopback or private"),
        ("https://[::1]", "loopback or private"),
        ("https://localhost", "public host"),
    ):
        env = production if base_url is None else {**production, "PORTAL_BASE_URL": base_url}
        result = run_settings(env)
        assert result.returncode != 0, base_url
        assert problem in result.stderr, (base_url, result.stderr[-500:])


def test_it_rejects_a_malformed_boolean_setting():
    result = run_settings({"DEBUG": "perhaps"})
    assert result.returncode != 0
    assert "DEBUG must be a boolean" in result.stderr


def test_it_seeds_the_demo_clinic_idempotently(db):
    call_command("seed_demo", stdout=io.StringIO())
    counts = (get_user_model().objects.count(), Patient.objects.count(), Group.objects.count())
    call_command("seed_demo", stdout=io.StringIO())
    assert (get_user_model().objects.count(), Patient.objects.count(), Group.objects.count()) == counts

    User = get_user_model()
    derm = User.objects.get(username="demo-derm")
    assert derm.is_staff and derm.groups.filter(name="Dermatologist").exists()
    assert User.objects.get(username="demo-desk").groups.filter(name="Front desk").exists()
    patient = Patient.objects.get(user__username="demo-patient")
    assert patient.user.email == "demo-patient@example.org"
    assert patient.time_zone == "America/New_York"
    assert patient.email_consent
    assert patient.user.check_password("demo-pass-2026")


def test_it_reports_health(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["database"] == "ok"
    assert response.json()["reminders"] in ("ok", "stale")


def test_it_gives_front_desk_no_right_to_change_articles_or_plans(db):
    desk = Group.objects.get(name="Front desk")
    codenames = set(desk.permissions.values_list("codename", flat=True))
    assert "view_patient" in codenames and "add_patient" in codenames
    assert not codenames & {"change_article", "publish_article", "change_plan", "change_routinetemplate"}
