"""A year of a busy clinic on PostgreSQL: every staff page, /learn/ and the today page, timed.

    .venv/bin/python bench/bench_scale.py [--scale 0.1] [--patients N] [--reuse] [--db bench_scale]
                                          [--rounds 3] [--only WORDS] [--no-planning]

Builds (or, with --reuse, keeps) its own PostgreSQL database,
postgres://postgres@127.0.0.1:5432/<--db>, through the app's models and
services: `seed_demo` for the clinic's products and the Milia care template,
`routines.services.assign_routine` for every plan (real multi-step plans),
and Django's `bulk_create` in batches for the rows patients and staff pile up
over a year (ticks, skin check-ins, reminders, access-log rows). The default
sizes are the issue's: 50,000 patients, 5 M ticks, 300 k check-ins, 5 M
reminders, 5 M access-log rows, 5,000 articles in English and Spanish;
`--scale 0.1` builds a tenth of each.

Then, DEBUG off and through Django's test client, it times every staff
changelist (unfiltered, each filter choice and each sortable column the page
offers, first and last page), the change pages (patient, plan, template,
article, step), the assign-routine form, `/learn/` (pages and search) and the
today page, and the reminder planning pass (rolled back). Each time is the
median of `--rounds` requests after one warm-up request, whose queries are
counted. Prints one table; pages over target are marked.
"""

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import time
import zoneinfo
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

STAFF_TARGET_MS = 300
LEARN_TARGET_MS = 100
FULL = {
    "patients": 50_000,
    "ticks": 5_000_000,
    "check_ins": 300_000,
    "reminders": 5_000_000,
    "access_logs": 5_000_000,
    "articles": 5_000,
}
BATCH = 5_000
ZONES = ["America/New_York", "America/Chicago", "America/Los_Angeles", "America/Puerto_Rico"]
FIRST_NAMES = (
    "Maya Sam Ana Luis Grace Omar Lena Ravi Sofia Tom Ines Kofi Mei Noah Zara Ivan Rosa Theo Aiko Hugo".split()
)
LAST_NAMES = "Lind Okafor Garcia Nguyen Smith Patel Rossi Kim Silva Moreau Haddad Novak Cruz Berg Mensah".split()
EN_WORDS = (
    "milia acne sunscreen retinol glycolic moisturizer cleanser exfoliation redness dryness eyelids pores "
    "rosacea eczema itching patch laser peel extraction barrier hydration"
).split()
ES_WORDS = (
    "protector solar retinol hidratante limpiador exfoliación enrojecimiento sequedad párpados poros "
    "rosácea eccema picazón parche láser peeling extracción barrera hidratación granitos"
).split()


def configure(db_name: str) -> None:
    os.environ.update(
        DJANGO_SETTINGS_MODULE="portal.settings",
        DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/{db_name}",
        DEBUG="0",
        SECRET_KEY="bench-scale-" + "x" * 50,
        ALLOWED_HOSTS="testserver",
        SECURE_SSL_REDIRECT="0",
        STAFF_2FA_REQUIRED="0",
        LOG_LEVEL="WARNING",
        PORTAL_BASE_URL="https://portal.example.org",
        STATIC_ROOT=str(ROOT / "var" / "bench_scale" / "static"),
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
    )


def ensure_database(db_name: str, *, reuse: bool) -> bool:
    """Create the bench database (dropping an old one unless `reuse`); returns True if it already existed."""
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db_name]).fetchone() is not None
        if exists and not reuse:
            conn.execute(f'DROP DATABASE "{db_name}" WITH (FORCE)')
            exists = False
        if not exists:
            conn.execute(f'CREATE DATABASE "{db_name}"')
    return exists


def open_database(db_name: str, *, reuse: bool) -> None:
    """Configure Django for the bench database `db_name` (created, or kept if `reuse`), set it up and migrate."""
    configure(db_name)
    existed = ensure_database(db_name, reuse=reuse)
    import django

    django.setup()
    from django.core.management import call_command

    say(f"database {db_name} ({'reused' if existed else 'new'}); migrating")
    call_command("migrate", verbosity=0)


def sizes_for(args) -> dict:
    sizes = {name: max(1, round(count * args.scale)) for name, count in FULL.items()}
    sizes["articles"] = max(sizes["articles"], 60)
    if args.patients:
        sizes["patients"] = args.patients
    return sizes


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def batched(rows, size=BATCH):
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def bulk(model, rows, *, label: str, total: int) -> None:
    """bulk_create `rows` (a generator) in batches, saying how far it got now and then."""
    done, started, last = 0, time.monotonic(), time.monotonic()
    for batch in batched(rows):
        model.objects.bulk_create(batch)
        done += len(batch)
        if time.monotonic() - last > 30:
            say(f"  {label}: {done:,}/{total:,} ({done / (time.monotonic() - started):,.0f}/s)")
            last = time.monotonic()
    say(f"  {label}: {done:,} in {time.monotonic() - started:.0f} s")


# --- Building the clinic -------------------------------------------------------


def bulk_patients(count: int, *, letter: str, zones: list[str], user: Callable, patient: Callable) -> None:
    """`count` logins and their patient records in bulk: usernames `<letter>000000` on, chart numbers
    `<LETTER>-000000` on, zones in turn; `user(n)` and `patient(n)` give each one's other fields."""
    from django.contrib.auth import get_user_model

    from portal.models import Patient

    User = get_user_model()
    logins = (User(username=f"{letter}{n:06d}", **user(n)) for n in range(count))
    bulk(User, logins, label="users", total=count)
    user_ids = dict(User.objects.filter(username__regex=rf"^{letter}[0-9]{{6}}$").values_list("username", "pk"))
    records = (
        Patient(
            user_id=user_ids[f"{letter}{n:06d}"],
            chart_number=f"{letter.upper()}-{n:06d}",
            date_of_birth=dt.date(1950 + n % 55, 1 + n % 12, 1 + n % 28),
            time_zone=zones[n % len(zones)],
            **patient(n),
        )
        for n in range(count)
    )
    bulk(Patient, records, label="patients", total=count)


def build(sizes: dict, *, today: dt.date) -> None:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from django.db import transaction
    from django.utils import timezone

    from education.models import Article, Condition
    from education.rendering import flesch_kincaid_grade, render_markdown
    from portal import roles
    from portal.models import AccessLog, Invitation, Patient
    from reminders.models import Reminder
    from routines.models import (
        CautionAcknowledgement,
        IrritationFlag,
        Plan,
        PlanStep,
        Procedure,
        ProcedureType,
        RoutineTemplate,
        SkinCheckIn,
        StepCheck,
    )
    from routines.services import assign_routine

    rng = random.Random(2026)
    User = get_user_model()
    say("seed_demo")
    call_command("seed_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
    template = RoutineTemplate.objects.get(name="Milia care")
    derm_group = Group.objects.get(name=roles.DERMATOLOGIST)
    password = make_password("demo-pass-2026")  # hashed once: every bench patient shares it

    say("staff")
    staff = []
    for n in range(8):
        user, _ = User.objects.get_or_create(
            username=f"bench-derm-{n}",
            defaults={"first_name": "Derm", "last_name": f"Number {n}", "is_staff": True, "password": password},
        )
        user.groups.add(derm_group)
        staff.append(user)
    User.objects.get_or_create(
        username="bench-admin",
        defaults={"is_staff": True, "is_superuser": True, "password": password, "first_name": "Bench"},
    )

    say("articles")
    conditions = list(Condition.objects.all())
    bodies = {}
    for language, words in (("en", EN_WORDS), ("es", ES_WORDS)):
        for n in range(20):
            picked = rng.sample(words, 8)
            body = f"## {picked[0].title()}\n\n" + " ".join(
                f"{w.capitalize()} {'care is simple' if language == 'en' else 'es sencillo'} {w}." for w in picked
            )
            html = render_markdown(body)
            bodies[language, n] = (body, html, flesch_kincaid_grade(html))

    def articles():
        for n in range(sizes["articles"]):
            language = "es" if n % 2 else "en"
            body, html, grade = bodies[language, n % 20]
            words = EN_WORDS if language == "en" else ES_WORDS
            yield Article(
                title=f"{words[n % len(words)].title()} {'guide' if language == 'en' else 'guía'} {n}",
                slug=f"bench-{n}",
                summary=f"{words[(n * 7) % len(words)]} {words[(n * 3) % len(words)]}",
                body=body + f"\n\nbenchword{n}",
                body_html=html,
                reading_grade=grade,
                language=language,
                status=Article.Status.PUBLISHED if n % 10 else Article.Status.DRAFT,
                author=staff[n % len(staff)],
                reviewed_on=today - dt.timedelta(days=n % 400),
                next_review_due=today + dt.timedelta(days=(n % 400) - 35),
                published_at=timezone.now(),
            )

    bulk(Article, articles(), label="articles", total=sizes["articles"])
    Through = Article.conditions.through
    article_ids = list(Article.objects.filter(slug__startswith="bench-").values_list("pk", flat=True))
    bulk(
        Through,
        (Through(article_id=pk, condition=conditions[pk % len(conditions)]) for pk in article_ids),
        label="article conditions",
        total=len(article_ids),
    )

    say("patients")
    P = sizes["patients"]

    bulk_patients(
        P,
        letter="b",
        zones=ZONES,
        user=lambda n: dict(
            email=f"b{n:06d}@example.org",
            first_name=FIRST_NAMES[n % len(FIRST_NAMES)],
            last_name=f"{LAST_NAMES[(n // 7) % len(LAST_NAMES)]}{n % 97}",
            password=password if n % 5 else "!unusable",
        ),
        patient=lambda n: dict(
            preferred_language="es" if n % 5 == 0 else "en",
            dermatologist=staff[n % len(staff)],
            email_consent=n % 10 < 7,
            sms_consent=False,
            reminders_paused=n % 50 == 0,
        ),
    )
    patients = list(Patient.objects.filter(chart_number__startswith="B-").order_by("pk").select_related("user"))

    say("plans through assign_routine")
    started = time.monotonic()
    done = 0
    for chunk in batched(patients, 250):
        with transaction.atomic():
            for patient in chunk:
                start = today - dt.timedelta(days=rng.randrange(3, 365))
                if patient.pk % 10 == 0:  # a past plan, replaced by the current one
                    assign_routine(
                        patient=patient,
                        template=template,
                        start_date=start - dt.timedelta(days=60),
                        assigned_by=staff[0],
                    )
                assign_routine(patient=patient, template=template, start_date=start, assigned_by=staff[0])
        done += len(chunk)
        if done % 5000 < 250:
            say(f"  plans: {done:,}/{P:,} patients ({done / (time.monotonic() - started):,.0f}/s)")

    say("ticks")
    steps = list(
        PlanStep.objects.filter(plan__patient__chart_number__startswith="B-", plan__status=Plan.Status.ACTIVE)
        .values_list("pk", "plan__start_date", "plan__patient_id")
        .order_by("pk")
    )
    per_step = max(1, sizes["ticks"] // max(1, len(steps)))

    def ticks():
        for step_id, start, patient_id in steps:
            stale = patient_id % 4 == 0  # a quarter of the patients stopped ticking a while ago
            last = today - dt.timedelta(days=rng.randrange(4, 40) if stale else rng.randrange(0, 2))
            span = (last - start).days + 1
            if span <= 0:
                continue
            for offset in sorted(rng.sample(range(span), min(span, per_step))):
                day = last - dt.timedelta(days=offset)
                yield StepCheck(
                    step_id=step_id,
                    local_date=day,
                    checked_at=dt.datetime.combine(day, dt.time(13, 0), tzinfo=dt.UTC),
                )

    bulk(StepCheck, ticks(), label="ticks", total=per_step * len(steps))
    say("last check-in dates")
    analyze()  # the per-patient subquery needs the tick and step tables' statistics
    StepCheck.objects.record_last_check_ins(Patient.objects.all())

    say("skin check-ins, flags, procedures, acknowledgements, invitations")
    per_patient = max(1, sizes["check_ins"] // P)
    feelings = [c for c, _ in SkinCheckIn.Feeling.choices]

    def check_ins():
        for patient in patients:
            for offset in rng.sample(range(365), per_patient):
                day = today - dt.timedelta(days=offset)
                yield SkinCheckIn(
                    patient_id=patient.pk,
                    local_date=day,
                    feeling=feelings[0] if rng.random() < 0.7 else rng.choice(feelings),
                    recorded_at=dt.datetime.combine(day, dt.time(14, 0), tzinfo=dt.UTC),
                )

    bulk(SkinCheckIn, check_ins(), label="check-ins", total=per_patient * P)
    bulk(
        IrritationFlag,
        (
            IrritationFlag(
                patient_id=p.pk,
                raised_on=today - dt.timedelta(days=p.pk % 30),
                reason="Skin not fine 3 times in 7 days",
                reviewed_at=None if p.pk % 200 == 0 else timezone.now(),
                reviewed_by=None if p.pk % 200 == 0 else staff[1],
            )
            for p in patients
            if p.pk % 50 == 0
        ),
        label="irritation flags",
        total=P // 50,
    )
    peel = ProcedureType.objects.get(name="Chemical peel")
    bulk(
        Procedure,
        (
            Procedure(patient_id=p.pk, type=peel, date=today + dt.timedelta(days=p.pk % 60 - 30), created_by=staff[2])
            for p in patients
            if p.pk % 40 == 0
        ),
        label="procedures",
        total=P // 40,
    )
    cautioned = PlanStep.objects.filter(plan__patient__chart_number__startswith="B-").exclude(caution="")
    bulk(
        CautionAcknowledgement,
        (
            CautionAcknowledgement(
                patient_id=patient_id, step_id=step_id, plan_version=1, caution=caution, acknowledged_at=timezone.now()
            )
            for step_id, patient_id, caution in cautioned.values_list("pk", "plan__patient_id", "caution").iterator()
            if step_id % 2
        ),
        label="caution acknowledgements",
        total=cautioned.count() // 2,
    )
    bulk(
        Invitation,
        (Invitation(patient_id=p.pk, created_by=staff[3]) for p in patients if p.pk % 10 == 0),
        label="invitations",
        total=P // 10,
    )

    say("reminders")
    plans = dict(
        Plan.objects.filter(patient__chart_number__startswith="B-", status=Plan.Status.ACTIVE).values_list(
            "patient_id", "pk"
        )
    )
    days_each = max(1, sizes["reminders"] // (2 * P))
    statuses = [Reminder.Status.SENT] * 90 + [Reminder.Status.SKIPPED] * 7 + [Reminder.Status.FAILED] * 3
    zones = {zone: zoneinfo.ZoneInfo(zone) for zone in ZONES}

    def reminders():
        for patient in patients:
            zone = zones[patient.time_zone]
            for offset in range(2, 2 + days_each):  # history only: the planning pass plans today and tomorrow
                day = today - dt.timedelta(days=offset)
                for slot, at in (
                    ("morning", patient.morning_reminder_time),
                    ("evening", patient.evening_reminder_time),
                ):
                    due = dt.datetime.combine(day, at, tzinfo=zone).astimezone(dt.UTC)
                    status = rng.choice(statuses)
                    yield Reminder(
                        patient_id=patient.pk,
                        plan_id=plans[patient.pk],
                        slot=slot,
                        local_date=day,
                        due_at=due,
                        channel=Reminder.Channel.EMAIL,
                        status=status,
                        attempts=1,
                        sent_at=due if status == Reminder.Status.SENT else None,
                        last_error="SMTP 451: try again later" if status == Reminder.Status.FAILED else "",
                        skip_reason="Reminders paused" if status == Reminder.Status.SKIPPED else "",
                    )

    bulk(Reminder, reminders(), label="reminders", total=days_each * 2 * P)

    say("access log")
    actions = [AccessLog.VIEW] * 8 + [AccessLog.PRINT, AccessLog.CHANGE]
    year_start = timezone.now() - dt.timedelta(days=365)

    def access_logs():
        for n in range(sizes["access_logs"]):
            patient = patients[rng.randrange(P)]
            by_staff = n % 3 == 0
            yield AccessLog(
                at=year_start + dt.timedelta(seconds=n * 365 * 86400 / sizes["access_logs"]),
                user_id=staff[n % len(staff)].pk if by_staff else patient.user_id,
                patient_id=patient.pk,
                action=rng.choice(actions),
                what=f"Admin patient #{patient.pk}" if by_staff else "Today page",
                path=f"/admin/portal/patient/{patient.pk}/change/" if by_staff else "/",
                ip_address=f"10.0.{n % 250}.{n % 200 + 1}",
            )

    bulk(AccessLog, access_logs(), label="access log", total=sizes["access_logs"])


def analyze() -> None:
    """Fresh planner statistics, as autovacuum would give a real database after a while."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


# --- Timing ---------------------------------------------------------------------


class Timer:
    def __init__(self, rounds: int, only: list[str]):
        self.rounds, self.only, self.rows = rounds, only, []

    def wanted(self, name: str) -> bool:
        return not self.only or any(word in name for word in self.only)

    def get(self, client, name: str, url: str, *, target: int = STAFF_TARGET_MS):
        """Time GET `url`: one counted warm-up, then the median of `rounds`. Returns the warm-up response."""
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        count = len(queries)  # now: the next request empties the log the context reads
        if response.status_code != 200:
            print(f"  {name}: {url} answered {response.status_code}")
            self.rows.append((f"{name} (answered {response.status_code})", url, 0, count, 0, None))
            return response
        times = []
        for _ in range(self.rounds):
            started = time.perf_counter()
            client.get(url)
            times.append((time.perf_counter() - started) * 1000)
        ms = statistics.median(times)
        row = (name, url, ms, count, len(response.content) // 1024, target)
        self.rows.append(row)
        print(f"  {ms:8.0f} ms {count:5d} q {row[4]:6d} KB {'  OVER' if ms > target else ''}  {name}  {url}")
        return response

    def record(self, name: str, ms: float, queries: int | str, *, target: float | None):
        self.rows.append((name, "", ms, queries, 0, target))
        print(f"  {ms:8.0f} ms {queries!s:>5} q  {name}")

    def table(self) -> str:
        lines = ["| page | time (ms) | queries | KB | within target |", "|---|---:|---:|---:|---|"]
        for name, url, ms, queries, kb, target in self.rows:
            verdict = "–" if target is None else ("yes" if ms <= target else f"**no** (> {target} ms)")
            label = f"{name} `{url}`" if url else name
            lines.append(f"| {label} | {ms:,.0f} | {queries} | {kb} | {verdict} |")
        return "\n".join(lines)


def changelist_urls(response, base: str) -> list[tuple[str, str]]:
    """(label, url) for each filter choice, each sortable column and the last page of a changelist."""
    from django.contrib.admin.templatetags.admin_list import result_headers

    cl = response.context["cl"]
    urls = []
    for spec in cl.filter_specs:
        for choice in list(spec.choices(cl))[1:5]:  # [0] is "All"; at most four choices a filter
            urls.append((f"filter {spec.title}={choice['display']}", base + choice["query_string"]))
    for header in result_headers(cl):
        if header.get("sortable") and header.get("url_primary"):
            urls.append((f"sort {header['text']}", base + header["url_primary"]))
    if cl.paginator.num_pages > 1:
        urls.append((f"last page ({cl.paginator.num_pages})", f"{base}?p={cl.paginator.num_pages}"))
    return urls


def time_pages(timer: Timer, *, planning: bool) -> None:
    from django.contrib.auth import get_user_model
    from django.db import transaction
    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone

    from education.models import Article
    from portal.models import Patient
    from reminders.planning import plan_reminders
    from routines.models import Plan, PlanStep, RoutineTemplate

    staff = Client()
    staff.force_login(get_user_model().objects.get(username="bench-admin"))
    changelists = [
        ("patients", "admin:portal_patient_changelist"),
        ("access log", "admin:portal_accesslog_changelist"),
        ("invitations", "admin:portal_invitation_changelist"),
        ("plans", "admin:routines_plan_changelist"),
        ("step checks", "admin:routines_stepcheck_changelist"),
        ("skin check-ins", "admin:routines_skincheckin_changelist"),
        ("caution acknowledgements", "admin:routines_cautionacknowledgement_changelist"),
        ("procedures", "admin:routines_procedure_changelist"),
        ("irritation flags", "admin:routines_irritationflag_changelist"),
        ("reminders", "admin:reminders_reminder_changelist"),
        ("articles", "admin:education_article_changelist"),
        ("templates", "admin:routines_routinetemplate_changelist"),
    ]
    for label, name in changelists:
        base = reverse(name)
        if not timer.wanted(label):
            continue
        response = timer.get(staff, f"{label} list", base)
        for what, url in changelist_urls(response, base):
            timer.get(staff, f"{label} list, {what}", url)

    patient = Patient.objects.filter(chart_number__startswith="B-").order_by("pk").last()
    plan = Plan.objects.filter(patient=patient, status=Plan.Status.ACTIVE).first()
    pages = [
        ("patient change", reverse("admin:portal_patient_change", args=[patient.pk])),
        ("plan change", reverse("admin:routines_plan_change", args=[plan.pk])),
        ("plan step change", reverse("admin:routines_planstep_change", args=[plan.steps.first().pk])),
        (
            "template change",
            reverse("admin:routines_routinetemplate_change", args=[RoutineTemplate.objects.get(name="Milia care").pk]),
        ),
        (
            "template step change",
            reverse(
                "admin:routines_templatestep_change",
                args=[RoutineTemplate.objects.get(name="Milia care").steps.first().pk],
            ),
        ),
        ("article change", reverse("admin:education_article_change", args=[Article.objects.order_by("pk").last().pk])),
        ("assign routine form", reverse("admin:portal_patient_assign_routine", args=[patient.pk])),
        (
            "article autocomplete",
            reverse("admin:autocomplete") + "?app_label=routines&model_name=plan&field_name=articles&term=mil",
        ),
    ]
    for label, url in pages:
        if timer.wanted(label):
            timer.get(staff, label, url)

    reader = Client()
    reader.force_login(patient.user)
    learn = reverse("education:article-list")
    patient_pages = [
        ("today page", "/", None),
        ("/learn/", learn, LEARN_TARGET_MS),
        ("/learn/ page 5", f"{learn}?page=5", LEARN_TARGET_MS),
        ("/learn/ search 'sunscreen'", f"{learn}?q=sunscreen", LEARN_TARGET_MS),
        ("/learn/ search one article's word", f"{learn}?q=benchword4321", LEARN_TARGET_MS),
        ("/learn/ search Spanish 'párpados'", f"{learn}?q=párpados", LEARN_TARGET_MS),
    ]
    for label, url, target in patient_pages:
        if timer.wanted(label):
            timer.get(reader, label, url, target=target if target else 10**6)

    if planning and timer.wanted("planning"):
        now = timezone.now()
        passes = [  # a worker's first pass, then its next one a minute later (see bench_planning.py for more)
            ("reminder planning, first pass", dict(now=now)),
            ("reminder planning, a minute later", dict(now=now + dt.timedelta(minutes=1), since=now)),
        ]
        with transaction.atomic():
            for label, when in passes:
                started = time.perf_counter()
                created = plan_reminders(**when)
                timer.record(f"{label} ({created:,} rows)", (time.perf_counter() - started) * 1000, "–", target=None)
            transaction.set_rollback(True)
    _ = PlanStep  # the step pages above name it through reverse()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the issue's sizes (default 1)")
    parser.add_argument("--patients", type=int, help="patients, whatever the scale")
    parser.add_argument("--db", default="bench_scale", help="database name (default bench_scale)")
    parser.add_argument("--reuse", action="store_true", help="keep the database if it exists (migrated, not rebuilt)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", nargs="*", default=[], help="time only pages whose name contains one of these")
    parser.add_argument("--no-planning", action="store_true", help="skip timing the reminder planning pass")
    args = parser.parse_args()

    open_database(args.db, reuse=args.reuse)
    from django.core.management import call_command
    from django.test.utils import setup_test_environment
    from django.utils import timezone

    from portal.models import Patient

    call_command("collectstatic", interactive=False, verbosity=0)  # DEBUG off serves the hashed names
    sizes = sizes_for(args)
    if not Patient.objects.filter(chart_number__startswith="B-").exists():
        say(f"building {sizes}")
        started = time.monotonic()
        build(sizes, today=timezone.localdate())
        say(f"built in {(time.monotonic() - started) / 60:.1f} min")
    else:
        say("reusing the data already there")
    analyze()
    setup_test_environment()  # response.context for the changelists' filters, sorts and pages
    timer = Timer(args.rounds, args.only)
    time_pages(timer, planning=not args.no_planning)
    print()
    print(f"Sizes: {sizes}; median of {args.rounds}, DEBUG off, PostgreSQL, Django test client")
    print(timer.table())


if __name__ == "__main__":
    main()
