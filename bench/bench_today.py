"""Throughput of the patient's today page beside a bare Django view, same server, same run.

    .venv/bin/python bench/bench_today.py [--seconds 5] [--rounds 3] [--connections 8]

Builds a throwaway SQLite database with the demo data and collected static
files in a temporary folder, serves the portal with gunicorn (2 workers,
DEBUG off) on 127.0.0.1, logs in as demo-patient through the real login form,
then loads `/bench/bare/`, `/` and `/plan/` for the same time each with `wrk`
if installed (else a small multi-process Python client), in turn, for several
rounds: a shared machine's speed drifts by tens of percent within a minute,
and interleaving keeps that drift from landing on one page. Prints requests/s
of each page per round, the today/bare ratio of each round and their median
(target: today >= 20% of bare), and the SQL queries per page.
"""

import argparse
import http.client
import multiprocessing
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv" / "bin" / "python").exists() else sys.executable
HOST = "127.0.0.1"
BARE = "/bench/bare/"
PAGES = (BARE, "/", "/plan/")
USERNAME, PASSWORD = "demo-patient", "demo-pass-2026"


def bench_env(var_dir: Path) -> dict:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings_bench",
        "PYTHONPATH": str(ROOT),
        "DEBUG": "0",
        "PORTAL_BASE_URL": "https://portal.example.org",
        "SECRET_KEY": "bench-" + "x" * 60,
        "ALLOWED_HOSTS": HOST,
        "SECURE_SSL_REDIRECT": "0",
        "VAR_DIR": str(var_dir),
        "STATIC_ROOT": str(var_dir / "static"),
        "DATABASE_URL": f"sqlite:///{var_dir / 'bench.sqlite3'}",
        "LOG_LEVEL": "WARNING",
    }


def manage(env: dict, *args: str) -> None:
    subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def request(port: int, path: str, *, method="GET", body=None, headers=None) -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection(HOST, port, timeout=10)
    conn.request(method, path, body=body, headers=headers or {})
    response = conn.getresponse()
    response.body = response.read()
    conn.close()
    return response


def start_gunicorn(env: dict, *, workers: int, log=subprocess.DEVNULL) -> tuple[subprocess.Popen, int]:
    """Serve the portal with gunicorn on a free local port; returns (process, port) once it answers."""
    port = free_port()
    server = subprocess.Popen(
        [PYTHON, "-m", "gunicorn", "portal.wsgi", "--workers", str(workers), "--bind", f"{HOST}:{port}"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    for _ in range(100):
        try:
            request(port, "/healthz")
            break
        except OSError:
            time.sleep(0.1)
    return server, port


def cookies_from(response, jar: dict) -> dict:
    for header, value in response.getheaders():
        if header.lower() == "set-cookie":
            name, _, rest = value.partition("=")
            jar[name] = rest.split(";", 1)[0]
    return jar


def log_in(port: int) -> str:
    """Log in through the real form; return the Cookie header a browser would then send (session and CSRF)."""
    page = request(port, "/accounts/login/")
    jar = cookies_from(page, {})
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.body).group(1).decode()
    body = urlencode({"csrfmiddlewaretoken": token, "username": USERNAME, "password": PASSWORD, "remember_me": "on"})
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "Cookie": "; ".join(f"{k}={v}" for k, v in jar.items()),
        "Referer": f"http://{HOST}:{port}/accounts/login/",
    }
    response = request(port, "/accounts/login/", method="POST", body=body, headers=headers)
    cookies_from(response, jar)
    if response.status != 302 or "sessionid" not in jar:
        raise SystemExit(f"Login failed: HTTP {response.status}")
    return "; ".join(f"{name}={value}" for name, value in jar.items())


def _client_loop(args) -> int:
    port, path, cookie, seconds = args
    done, deadline = 0, time.monotonic() + seconds
    while time.monotonic() < deadline:
        if request(port, path, headers={"Cookie": cookie}).status == 200:
            done += 1
    return done


def load(port: int, path: str, cookie: str, *, seconds: float, connections: int) -> float:
    """Requests per second of `path` with `connections` concurrent clients for `seconds`."""
    if shutil.which("wrk"):
        out = subprocess.run(
            [
                "wrk",
                "-t2",
                f"-c{connections}",
                f"-d{int(seconds)}s",
                "-H",
                f"Cookie: {cookie}",
                f"http://{HOST}:{port}{path}",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        if "Non-2xx" in out:
            raise SystemExit(f"{path}: some responses were not 200:\n{out}")
        return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    with multiprocessing.Pool(connections) as pool:
        counts = pool.map(_client_loop, [(port, path, cookie, seconds)] * connections)
    return sum(counts) / seconds


QUERY_COUNTER = """
import django; django.setup()
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
client = Client(HTTP_HOST="127.0.0.1")
client.force_login(get_user_model().objects.get(username="demo-patient"))
for path in ("/", "/plan/", "/bench/bare/"):
    client.get(path)  # warm up
    with CaptureQueriesContext(connection) as ctx:
        status = client.get(path).status_code
    print(f"{path}\\t{status}\\t{len(ctx.captured_queries)}")
"""


def count_queries(env: dict) -> list[tuple[str, str, str]]:
    out = subprocess.run([PYTHON, "-c", QUERY_COUNTER], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    return [tuple(line.split("\t")) for line in out.stdout.strip().splitlines()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=5, help="per page and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=8)
    options = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-today-") as tmp:
        env = bench_env(Path(tmp))
        manage(env, "migrate", "--noinput")
        manage(env, "seed_demo")
        manage(env, "collectstatic", "--noinput")
        server, port = start_gunicorn(env, workers=2)
        try:
            cookie = log_in(port)
            today = request(port, "/", headers={"Cookie": cookie})
            if today.status != 200 or b"done today" not in today.body:
                raise SystemExit(f"The today page did not render for {USERNAME}: HTTP {today.status}")
            for path in PAGES:  # warm both workers
                load(port, path, cookie, seconds=1, connections=options.connections)
            per_page = {"seconds": options.seconds, "connections": options.connections}
            rounds = [{path: load(port, path, cookie, **per_page) for path in PAGES} for _ in range(options.rounds)]
        finally:
            server.terminate()
            server.wait(timeout=10)
        queries = count_queries(env)

    tool = "wrk" if shutil.which("wrk") else "python clients"
    print(
        f"gunicorn 2 workers, DEBUG off, SQLite; {tool}, {options.connections} connections, "
        f"{options.rounds} rounds of {options.seconds:g} s per page"
    )
    print("req/s per round:  " + "  ".join(f"{path} {rate:7.1f}" for path, rate in rounds[0].items()))
    for result in rounds[1:]:
        print("                  " + "  ".join(f"{path} {rate:7.1f}" for path, rate in result.items()))
    for path, name, target in (("/", "today page /", "  target >= 20%"), ("/plan/", "plan page /plan/", "")):
        ratios = [result[path] / result[BARE] for result in rounds]
        spread = ", ".join(f"{ratio:.1%}" for ratio in ratios)
        print(f"{name:<17} {statistics.median(ratios):6.1%} of bare (median; rounds: {spread}){target}")
    for path, status, count in queries:
        print(f"SQL queries {path:<13} {count:>3}  (HTTP {status})")


if __name__ == "__main__":
    main()
