"""CPU instructions per request of the today page, /plan/ and the bare view, counted by valgrind.

    .venv/bin/python bench/count_instructions.py [--requests 30]

Wall-clock throughput on a shared machine drifts by tens of percent within a
minute (see bench_today.py), too much to see a 5% change. This counts
instructions instead, which is deterministic: it builds the same throwaway
SQLite database as bench_today.py, then for each page runs one Python
process under `valgrind --tool=callgrind` that logs in as demo-patient and
serves the page `--requests` times through Django's WSGI handler (no HTTP
server), and another that serves it not at all. The difference, divided by
`--requests`, is the cost of one request. Takes about five minutes with
2 CPUs (callgrind runs Python some 50 times slower). Needs `valgrind`.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_today import BARE, PYTHON, ROOT, USERNAME, bench_env, manage  # noqa: E402

PAGES = ("/", "/plan/", BARE)

SERVE = """
import io, sys
import django; django.setup()
from django.contrib.auth import get_user_model
from django.core.handlers.wsgi import WSGIHandler
from django.test import Client
path, count = sys.argv[1], int(sys.argv[2])
client = Client()
client.force_login(get_user_model().objects.get(username=sys.argv[3]))
app, cookie = WSGIHandler(), f"sessionid={client.cookies['sessionid'].value}"

def serve():
    environ = {
        "REQUEST_METHOD": "GET", "PATH_INFO": path, "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "80",
        "HTTP_HOST": "127.0.0.1", "HTTP_COOKIE": cookie, "REMOTE_ADDR": "127.0.0.1",
        "wsgi.input": io.BytesIO(), "wsgi.url_scheme": "http", "wsgi.errors": sys.stderr,
    }
    status = []
    b"".join(app(environ, lambda line, headers: status.append(line)))
    assert status[0].startswith("200"), status

for _ in range(5):  # first requests compile templates and fill caches
    serve()
for _ in range(count):
    serve()
"""


def instructions(env: dict, path: str, count: int) -> int:
    out = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"]
        + [PYTHON, "-c", SERVE, path, str(count), USERNAME],
        cwd=ROOT,
        env={**env, "PYTHONHASHSEED": "0"},
        capture_output=True,
        text=True,
        check=True,
    ).stderr
    return int(next(line for line in out.splitlines() if "Collected :" in line).split(":")[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=30)
    options = parser.parse_args()
    if not shutil.which("valgrind"):
        raise SystemExit("valgrind is not installed (apt-get install -y valgrind)")

    with tempfile.TemporaryDirectory(prefix="bench-instructions-") as tmp:
        env = bench_env(Path(tmp))
        manage(env, "migrate", "--noinput")
        manage(env, "seed_demo")
        manage(env, "collectstatic", "--noinput")
        runs = [(path, count) for path in PAGES for count in (0, options.requests)]
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            counted = dict(zip(runs, pool.map(lambda run: instructions(env, *run), runs), strict=True))

    per_request = {path: (counted[path, options.requests] - counted[path, 0]) / options.requests for path in PAGES}
    print(f"callgrind, one process, DEBUG off, SQLite; {options.requests} requests per page")
    for path in PAGES:
        share = "" if path == BARE else f"  (bare is {per_request[BARE] / per_request[path]:.1%} of it)"
        print(f"{path:<13} {per_request[path] / 1e6:6.2f} M instructions per request{share}")


if __name__ == "__main__":
    main()
