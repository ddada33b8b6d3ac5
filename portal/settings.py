"""Settings for the clinic patient-education portal.

Every knob comes from the environment through the small typed helpers below,
which refuse malformed values instead of guessing. Development defaults are
safe; with DEBUG off the portal refuses to start without a SECRET_KEY.
"""

import datetime as dt
import ipaddress
import os
import sys
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def envbool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), not {value!r}")


def envint(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, not {value!r}") from None


def envlist(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


DEBUG = envbool("DEBUG", False)


def public_base_url_problem(url: str) -> str:
    """Why `url` cannot be the address patients are sent to, or "" if it can.

    It must be https and name a public host: a loopback or private address in an
    email or a QR code is a link no patient can open.
    """
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        return f"PORTAL_BASE_URL must be the portal's public https:// address, not {url!r}."
    host = parts.hostname
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
        return f"PORTAL_BASE_URL must name a public host, not {host!r}."
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return ""
    if not address.is_global:
        return f"PORTAL_BASE_URL must not be a loopback or private address ({host})."
    return ""


TESTING = "pytest" in sys.modules

# Management commands that only read code and never sign or serve anything may
# run without a secret (a developer's `makemigrations`); Django itself still
# refuses if anything touches the empty SECRET_KEY.
COMMANDS_WITHOUT_SECRET = {"makemigrations", "showmigrations", "sqlmigrate", "help"}
RUNNING_COMMAND = sys.argv[1] if len(sys.argv) > 1 and sys.argv[0].endswith("manage.py") else ""

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if DEBUG or TESTING:
        SECRET_KEY = "django-insecure-development-only-key-never-use-in-production"
    elif RUNNING_COMMAND not in COMMANDS_WITHOUT_SECRET:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set the SECRET_KEY environment variable to a long "
            "random string (or DEBUG=1 for local development)."
        )

ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])

CLINIC_NAME = os.environ.get("CLINIC_NAME", "Riverside Dermatology")
CLINIC_PHONE = os.environ.get("CLINIC_PHONE", "(555) 010-2030")
CLINIC_TIME_ZONE = os.environ.get("CLINIC_TIME_ZONE", "America/New_York")

INSTALLED_APPS = [
    "portal.apps.PortalAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "crispy_forms",
    "crispy_bootstrap5",
    "simple_history",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_ratelimit",
    "portal",
    "education",
    "routines",
    "reminders",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # After sessions, before CommonMiddleware (Django's documented place).
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Needs the user: a signed-in patient's record overrides the browser's language.
    "portal.middleware.PatientLanguageMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "portal.middleware.StaffSessionPolicyMiddleware",
    "portal.middleware.PrivatePagesMiddleware",
    "django_ratelimit.middleware.RatelimitMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "portal.language.language_switch",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.context_processors.clinic",
                "portal.context_processors.page_urls",
            ],
        },
    },
]
if not DEBUG:
    # Compile templates once per process: the today page renders on every visit.
    TEMPLATES[0]["APP_DIRS"] = False
    TEMPLATES[0]["OPTIONS"]["loaders"] = [
        (
            "django.template.loaders.cached.Loader",
            [
                "django.template.loaders.filesystem.Loader",
                "django.template.loaders.app_directories.Loader",
            ],
        )
    ]

# Database: SQLite under var/ by default, DATABASE_URL for PostgreSQL.
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{VAR_DIR / 'portal.sqlite3'}",
        conn_max_age=envint("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server read while the reminder worker writes; IMMEDIATE
    # transactions take the write lock up front so a busy database waits for
    # `timeout` seconds instead of failing with "database is locked" mid-way.
    # Connections persist like PostgreSQL's (CONN_MAX_AGE): a fresh SQLite
    # connection re-reads the schema and re-prepares every statement, which
    # cost the today page 5 ms a view (bench/bench_today.py).
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000;",
    }
if os.environ.get("DATABASE_TEST_NAME"):
    # Lets two test runs share one PostgreSQL server without clobbering each other.
    DATABASES["default"]["TEST"] = {"NAME": os.environ["DATABASE_TEST_NAME"]}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

AUTHENTICATION_BACKENDS = [
    # django-axes first: it refuses a locked-out username+address before the password is checked.
    "axes.backends.AxesStandaloneBackend",
    "portal.backends.PatientModelBackend",
]

# Login lockout (django-axes): keyed on username AND address together, so one
# clinic's shared address does not lock everyone out; a cool-off, not a permanent lock.
# Reverse proxies in front of the app that append the client to X-Forwarded-For
# (0: clients connect directly). Lockout, rate limits and the access log use the
# address they saw (portal/client_ip.py); without it every patient would share the proxy's.
TRUSTED_PROXY_COUNT = envint("TRUSTED_PROXY_COUNT", 0)
if TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured("TRUSTED_PROXY_COUNT must be 0 or more")
AXES_CLIENT_IP_CALLABLE = "portal.client_ip.client_ip"
RATELIMIT_IP_META_KEY = "portal.client_ip.client_ip"
AXES_FAILURE_LIMIT = envint("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = dt.timedelta(minutes=envint("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False

# Sessions: patients may stay signed in on their own phone for 14 days if they
# tick "remember me" (otherwise until the browser closes); staff sessions end
# after 30 idle minutes (shared front-desk computers) and 12 hours at most.
SESSION_COOKIE_AGE = 60 * 60 * 24 * 14
STAFF_SESSION_IDLE_SECONDS = envint("STAFF_SESSION_IDLE_SECONDS", 30 * 60)
STAFF_SESSION_MAX_SECONDS = envint("STAFF_SESSION_MAX_SECONDS", 12 * 60 * 60)

# Password reset and invitation pages: at most this many posts per address per hour.
RATELIMIT_ACCOUNT_PAGES = os.environ.get("RATELIMIT_ACCOUNT_PAGES", "10/h")
RATELIMIT_VIEW = "portal.views.rate_limited"

# Optional TOTP two-factor for staff in the admin (django-otp).
STAFF_2FA_REQUIRED = envbool("STAFF_2FA_REQUIRED", False)
OTP_TOTP_ISSUER = CLINIC_NAME

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"

# Portal invitations: the activation link works once and expires.
INVITATION_MAX_AGE_DAYS = envint("INVITATION_MAX_AGE_DAYS", 7)
PASSWORD_RESET_TIMEOUT = envint("PASSWORD_RESET_TIMEOUT", 60 * 60 * 24)

# The access log keeps rows this many days; `prune_access_log` (daily timer) archives older ones to a
# compressed file, checks it, then deletes them. 0 (the default) keeps everything. HIPAA asks for six
# years of its documentation (2190 days); a state's or the clinic's own rule may ask for longer.
ACCESS_LOG_RETENTION_DAYS = envint("ACCESS_LOG_RETENTION_DAYS", 0)
if ACCESS_LOG_RETENTION_DAYS < 0:
    raise ImproperlyConfigured("ACCESS_LOG_RETENTION_DAYS must be 0 (keep everything) or a number of days")

# Interface languages. A patient's pages follow Patient.preferred_language
# (portal.middleware.PatientLanguageMiddleware); pages before login and staff
# pages follow the browser. Anything not in LANGUAGES falls back to English.
LANGUAGE_CODE = "en"
LANGUAGES = [("en", gettext_lazy("English")), ("es", gettext_lazy("Spanish"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = CLINIC_TIME_ZONE
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or TESTING
            else "portal.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG or TESTING

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Email: Django's own setting names. In DEBUG, messages land as files in var/mail/.
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.filebased.EmailBackend" if DEBUG else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_FILE_PATH = os.environ.get("EMAIL_FILE_PATH", str(VAR_DIR / "mail"))
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = envint("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = envbool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = envbool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = envint("EMAIL_TIMEOUT", 30)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", f"{CLINIC_NAME} <no-reply@clinic.example.org>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Public address of the portal, for links in emails, PDFs and QR codes.
PORTAL_BASE_URL = os.environ.get("PORTAL_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
if not (DEBUG or TESTING or RUNNING_COMMAND in COMMANDS_WITHOUT_SECRET) and (
    problem := public_base_url_problem(PORTAL_BASE_URL)
):
    # Production: every reminder, invitation and QR code would otherwise point at this machine.
    raise ImproperlyConfigured(problem)

REDIS_URL = os.environ.get("REDIS_URL", "")

# Articles: a published article is due for medical review this many months later.
ARTICLE_REVIEW_INTERVAL_MONTHS = envint("ARTICLE_REVIEW_INTERVAL_MONTHS", 12)

# Printed handouts: "A4" or "Letter".
HANDOUT_PAGE_SIZE = os.environ.get("HANDOUT_PAGE_SIZE", "Letter")
if HANDOUT_PAGE_SIZE not in ("A4", "Letter"):
    raise ImproperlyConfigured(f"HANDOUT_PAGE_SIZE must be A4 or Letter, not {HANDOUT_PAGE_SIZE!r}")

# Security. Production (DEBUG off) is HTTPS-only behind a proxy that sets
# X-Forwarded-Proto; `check --deploy` runs clean in CI with these.
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SILENCED_SYSTEM_CHECKS: list[str] = []
if not DEBUG and not TESTING:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", False)
    if not SECURE_HSTS_PRELOAD:
        # Preloading is a one-way commitment for a clinic's whole domain; opt in with SECURE_HSTS_PRELOAD=1.
        SILENCED_SYSTEM_CHECKS.append("security.W021")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", [])

# Content-Security-Policy (django-csp): our own origin only, no inline script.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    }
}
PERMISSIONS_POLICY = {
    "camera": [],
    "microphone": [],
    "geolocation": [],
    "payment": [],
    "usb": [],
    "interest-cohort": [],
}

# Caches: only rate limiting uses the cache. With REDIS_URL every process shares
# one count; without it each process counts on its own (N processes allow N times
# the rate), which is fine for one small server and for development.
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
RATELIMIT_FAIL_OPEN = envbool("RATELIMIT_FAIL_OPEN", False)
SILENCED_SYSTEM_CHECKS += [
    "django_ratelimit.W001",  # Django's own RedisCache increments atomically; the check only knows django-redis
    *([] if REDIS_URL else ["django_ratelimit.E003"]),
]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
    },
}

# --- Reminders (reminders/planning.py and sending.py, `run_reminders`) ---
# Reminders due longer ago than the grace window are skipped, never sent late:
# a morning reminder must not arrive at night after an outage.
REMINDER_GRACE_MINUTES = envint("REMINDER_GRACE_MINUTES", 120)
# How far ahead each planning pass creates Reminder rows (idempotent inserts).
REMINDER_PLAN_AHEAD_HOURS = envint("REMINDER_PLAN_AHEAD_HOURS", 36)
# A failed send is retried with exponential back-off until this many attempts.
REMINDER_MAX_ATTEMPTS = envint("REMINDER_MAX_ATTEMPTS", 5)
REMINDER_RETRY_BASE_SECONDS = envint("REMINDER_RETRY_BASE_SECONDS", 60)
# A row left "sending" this long by a crashed worker is recorded as failed, delivery unknown (never resent).
REMINDER_CLAIM_TIMEOUT_MINUTES = envint("REMINDER_CLAIM_TIMEOUT_MINUTES", 10)
# /healthz says "stale" when no scheduler pass ran for this long.
REMINDER_STALE_AFTER_MINUTES = envint("REMINDER_STALE_AFTER_MINUTES", 5)
REMINDER_BATCH_SIZE = envint("REMINDER_BATCH_SIZE", 500)
# The reminder worker writes a claim before every send, so a killed worker costs at most the one
# message in hand. Waiting for a disk flush on each of those writes costs about a third of the
# 08:00 peak's pace (bench/bench_reminders.py), so on PostgreSQL the worker's connection commits
# asynchronously (synchronous_commit=off): a killed worker still loses nothing, since a commit is
# visible at once; only a crash of the database server itself can roll back its last fraction of a
# second (at most 3 x wal_writer_delay), and a claim rolled back after its email left would be sent
# again. SQLite here makes the same trade (synchronous=NORMAL). 1 flushes every write instead.
REMINDER_SYNCHRONOUS_COMMIT = envbool("REMINDER_SYNCHRONOUS_COMMIT", False)
if (
    RUNNING_COMMAND == "run_reminders"
    and not REMINDER_SYNCHRONOUS_COMMIT
    and DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
):
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c synchronous_commit=off"
# SMS transport: a dotted path; the console backend logs messages, the file backend appends to SMS_FILE_PATH.
SMS_BACKEND = os.environ.get("SMS_BACKEND", "reminders.transports.ConsoleSMSBackend")
SMS_FILE_PATH = os.environ.get("SMS_FILE_PATH", str(VAR_DIR / "sms"))
