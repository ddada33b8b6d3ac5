"""The checks behind /healthz beyond the database's own.

portal sits below the apps that have something to report (the reminder
worker's heartbeat lives in `reminders`), so it never imports them: each app
registers its check from its AppConfig.ready().
"""

from collections.abc import Callable

# name in the /healthz JSON → check returning its status word ("ok", "stale", ...)
CHECKS: dict[str, Callable[[], str]] = {}


def register(name: str, check: Callable[[], str]) -> None:
    CHECKS[name] = check


def run_checks() -> dict[str, str]:
    """{name: status} for every registered check, in registration order."""
    return {name: check() for name, check in CHECKS.items()}
