"""The README's screenshots of the staff side, made from demo data so they stay current.

    make screenshots        (or: .venv/bin/python docs/screenshots/make_screenshots.py)

Builds the demo data (`seed_demo`) in a scratch SQLite database, starts the development
server on a free port, and has Playwright drive Debian's Chromium (/usr/bin/chromium) at
1280×900 to save, next to this script:

- plan-builder.png: demo-patient's plan change page, scrolled to its steps, as demo-derm;
- adherence-chart.png: demo-patient's admin page, scrolled to the adherence chart, as demo-derm;
- worklist.png: demo-derm's admin home;
- print-desk.png: demo-desk's admin home, searched by demo-patient's date of birth.

The scratch database also gets one chemical peel tomorrow for demo-patient, so the print desk's
list of today's and tomorrow's procedures shows a row. Staff two-factor is off (STAFF_2FA_REQUIRED=0).
Nothing outside the scratch directory and the PNGs is touched.
"""

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from deploy.drill import chromium  # noqa: E402  (the one launch definition, as the tests use)

ROOT = Path(__file__).resolve().parents[2]
OUT = Path(__file__).resolve().parent
VIEWPORT = {"width": 1280, "height": 900}
PASSWORD = "demo-pass-2026"  # portal.demo.DEMO_PASSWORD (not imported: this script runs outside Django)

# Run in the scratch database after seed_demo: ids for the pages to shoot, and a procedure tomorrow.
PREPARE = """
import datetime as dt, json
from django.utils import timezone
from portal.models import Patient
from routines.models import Plan, Procedure, ProcedureType
patient = Patient.objects.get(user__username="demo-patient")
plan = Plan.objects.filter(patient=patient, status=Plan.Status.ACTIVE).order_by("-start_date").first()
peel = ProcedureType.objects.get(name="Chemical peel")
Procedure.objects.get_or_create(patient=patient, type=peel, date=timezone.localdate() + dt.timedelta(days=1))
print(json.dumps({"patient": patient.pk, "plan": plan.pk, "born": patient.date_of_birth.isoformat()}))
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _manage(env: dict, *args: str) -> str:
    """Run manage.py with `args` in the scratch environment; its standard output."""
    done = subprocess.run(  # noqa: S603 (our own manage.py, fixed arguments)
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    )
    return done.stdout


def _wait_for(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            urllib.request.urlopen(url, timeout=2)  # noqa: S310 (the local dev server's http URL)
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def _log_in(page, base: str, username: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{base}/admin/login/?next=/admin/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.locator("input[type=submit]").click()
    page.wait_for_url(f"{base}/admin/")


def _shoot(page, url: str, name: str, *, scroll_to: str = "") -> None:
    page.goto(url)
    page.wait_for_load_state("networkidle")
    target = page.locator(scroll_to).first if scroll_to else None
    if target is not None and target.count():  # else the top of the page: whatever the page shows now
        target.evaluate("element => element.scrollIntoView({block: 'start'})")
    page.screenshot(path=OUT / f"{name}.png")
    print(f"saved {OUT / name}.png")


def shoot_all(base: str, ids: dict) -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium.EXECUTABLE, args=chromium.ARGS)
        page = browser.new_context(viewport=VIEWPORT, locale="en-US").new_page()
        _log_in(page, base, "demo-derm")
        _shoot(page, f"{base}/admin/routines/plan/{ids['plan']}/change/", "plan-builder", scroll_to="#steps")
        patient_page = f"{base}/admin/portal/patient/{ids['patient']}/change/"
        _shoot(page, patient_page, "adherence-chart", scroll_to="#adherence-chart")
        _shoot(page, f"{base}/admin/", "worklist")
        _log_in(page, base, "demo-desk")
        _shoot(page, f"{base}/admin/print-desk/?q={ids['born']}", "print-desk")
        browser.close()


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="screenshots-") as scratch:
        env = {
            **os.environ,
            "DEBUG": "1",
            "VAR_DIR": scratch,
            "DATABASE_URL": f"sqlite:///{scratch}/demo.sqlite3",
            "STAFF_2FA_REQUIRED": "0",
        }
        _manage(env, "migrate", "--noinput")
        _manage(env, "seed_demo")
        ids = json.loads(_manage(env, "shell", "-c", PREPARE).strip().splitlines()[-1])
        port = _free_port()
        server = subprocess.Popen(  # noqa: S603 (our own manage.py, fixed arguments)
            [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            _wait_for(f"{base}/healthz")
            shoot_all(base, ids)
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
