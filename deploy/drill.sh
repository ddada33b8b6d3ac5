#!/usr/bin/env bash
# Production drill: the portal as deploy/ sets it up, on this machine's loopback.
#
# PostgreSQL-backed gunicorn (DEBUG off) from portal-web.service's command, two
# reminder workers from portal-reminders@.service's, nginx with deploy/nginx/portal.conf
# on high ports with a throwaway certificate, all with deploy/portal.env.example plus
# the drill's overrides. Then, through nginx: the patient journey in Chromium,
# client addresses from X-Forwarded-For, a graceful reload under load, reminders
# with two workers and then one, and a backup by the timer's command that restores.
# Everything it starts it stops, and its databases are dropped. Prints PASS/FAIL
# per check; exits 1 if any failed.
#
#   bash deploy/drill.sh               (as root; installs nginx if missing)
#   DRILL_PATIENTS=50 bash deploy/drill.sh
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
PY="$ROOT/.venv/bin/python"
HOST=portal.example.org
PATIENTS=${DRILL_PATIENTS:-300}
PG=${DRILL_POSTGRES:-postgres://postgres@127.0.0.1:5432}
DB="portal_drill_$$"
RESTORED_DB="${DB}_restored"
started_at=$(date +%s)

TMP=$(mktemp -d /tmp/portal-drill.XXXXXX)
chmod 755 "$TMP" # nginx's workers run as www-data and read the static files below
VAR="$TMP/var"
mkdir -p "$VAR" "$TMP/mail" "$TMP/log" "$TMP/nginx"

declare -a results=() started=()
declare -A pid_of=()
failures=0
made_policy_rc=""

pass() { results+=("PASS  $1 — $2"); echo "PASS  $1"; }
fail() { results+=("FAIL  $1 — $2"); echo "FAIL  $1: $2"; failures=$((failures + 1)); }
# `run_check NAME command...`: PASS with the command's last line of output, FAIL with all of it.
run_check() {
    local name=$1 out
    shift
    echo "== $name"
    if out=$("$@" 2>&1); then
        pass "$name" "$(printf '%s\n' "$out" | tail -n 1 | sed 's/^ *//')"
    else
        printf '%s\n' "$out" | tail -n 25
        fail "$name" "$(printf '%s\n' "$out" | tail -n 1 | sed 's/^ *//')"
    fi
}

summary() {
    echo
    echo "== production drill summary ($(($(date +%s) - started_at)) s)"
    printf '%s\n' "${results[@]}"
    if [ "$failures" -gt 0 ]; then
        echo "DRILL FAILED: $failures check(s)"
    else
        echo "DRILL PASSED: ${#results[@]} checks"
    fi
}

# `stop NAME [SIGNAL]`: signal a process started by `start` (TERM, then KILL after 15 s), reap it, forget it.
# Only in this shell, never in a $(...) subshell: only this shell can reap its children.
stop() {
    local name=$1 signal=${2:-TERM} pid=${pid_of[$1]:-} n
    [ -n "$pid" ] || return 0
    kill "-$signal" "$pid" 2>/dev/null
    for n in $(seq 150); do
        # A child that exited stays a zombie until reaped; `ps` tells the two apart.
        [[ "$(ps -o stat= -p "$pid")" == "" || "$(ps -o stat= -p "$pid")" == Z* ]] && break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    unset "pid_of[$name]"
    return 0
} 2>/dev/null # bash's own "Killed" notice included
alive() { [ -n "${pid_of[$1]:-}" ] && kill -0 "${pid_of[$1]}" 2>/dev/null; }

cleanup() {
    local status=$? i
    trap - EXIT INT TERM
    for ((i = ${#started[@]} - 1; i >= 0; i--)); do
        stop "${started[i]}"
    done
    [ -n "$made_policy_rc" ] && rm -f /usr/sbin/policy-rc.d
    dropdb --if-exists --force -h 127.0.0.1 -U postgres "$DB" 2>/dev/null
    dropdb --if-exists --force -h 127.0.0.1 -U postgres "$RESTORED_DB" 2>/dev/null
    if [ "$failures" -gt 0 ] || [ "$status" -ne 0 ]; then
        for log in "$TMP"/log/*.log "$TMP"/nginx/error.log; do
            [ -s "$log" ] && { echo "--- last lines of $log"; tail -n 15 "$log"; }
        done
    fi
    rm -rf "$TMP"
    summary
    if [ "$failures" -gt 0 ]; then exit 1; fi
    exit "$status"
}
trap cleanup EXIT
trap 'echo "interrupted"; failures=$((failures + 1)); exit 130' INT TERM

# A setup step that fails ends the drill: later checks would only fail for the same reason.
setup_or_die() {
    local name=$1
    shift
    if ! "$@" >"$TMP/log/setup.out" 2>&1; then
        tail -n 30 "$TMP/log/setup.out"
        fail "setup" "$name failed"
        exit 1
    fi
}

free_port() { "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# `unit_command UNIT KEY`: the unit's command lines (ExecStart=, ...) with this checkout's paths,
# preceded by the unit's own Environment= settings.
unit_command() {
    local environment
    environment=$(sed -n 's/^Environment=//p' "deploy/systemd/$1" | tr '\n' ' ')
    sed -n "s/^$2=//p" "deploy/systemd/$1" | sed "s#/srv/portal#$ROOT#g; s#/var/lib/portal#$VAR#g; s#^#env $environment#"
}

# The shell line that runs a unit's command as systemd would: the settings from the
# environment file ($0), in the checkout ($1), words split but no globbing, exec'd.
AS_UNIT='set -f; set -a; . "$0"; set +a; cd "$1" && exec '
as_unit() { bash -c "$AS_UNIT$2" "$1" "$ROOT"; }
# `start NAME COMMAND`: a unit's command in the background; $! is the command's own pid.
start() {
    bash -c "$AS_UNIT$2" "$TMP/portal.env" "$ROOT" >"$TMP/log/$1.log" 2>&1 &
    pid_of[$1]=$!
    started+=("$1")
}

manage() { PORTAL_ENV_FILE="$TMP/portal.env" PORTAL_USER="$(id -un)" deploy/manage.sh "$@"; }

echo "== production drill (deploy/drill.sh): setup in $TMP, database $DB"

# --- nginx from Debian, without letting the package start the system's own on port 80.
if ! command -v nginx >/dev/null 2>&1; then
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
        made_policy_rc=1
    fi
    export DEBIAN_FRONTEND=noninteractive
    setup_or_die "apt-get install nginx" sh -c 'apt-get update -qq && apt-get install -y -qq nginx'
    [ -n "$made_policy_rc" ] && rm -f /usr/sbin/policy-rc.d && made_policy_rc=""
fi
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
    fail "setup" "PostgreSQL is not answering on 127.0.0.1:5432"
    exit 1
fi

APP_PORT=$(free_port)
HTTPS_PORT=$(free_port)
HTTP_PORT=$(free_port)
BASE="https://$HOST:$HTTPS_PORT"

setup_or_die "openssl" openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
    -subj "/CN=$HOST" -addext "subjectAltName=DNS:$HOST" -keyout "$TMP/tls.key" -out "$TMP/tls.crt"
setup_or_die "createdb" createdb -h 127.0.0.1 -U postgres "$DB"

# The production template, then what differs on this machine (later lines win).
cp deploy/portal.env.example "$TMP/portal.env"
redis_url=""
"$PY" -c 'import socket; socket.create_connection(("127.0.0.1", 6379), 2)' 2>/dev/null && redis_url="redis://127.0.0.1:6379/13"
cat >>"$TMP/portal.env" <<EOF

# --- deploy/drill.sh
SECRET_KEY=$("$PY" -c 'import secrets; print(secrets.token_urlsafe(64))')
PORTAL_BASE_URL=$BASE
ALLOWED_HOSTS=$HOST
CSRF_TRUSTED_ORIGINS=$BASE
DATABASE_URL=$PG/$DB
REDIS_URL=$redis_url
EMAIL_BACKEND=django.core.mail.backends.filebased.EmailBackend
EMAIL_FILE_PATH=$TMP/mail
VAR_DIR=$VAR
STATIC_ROOT=$TMP/static
MEDIA_ROOT=$VAR/media
GUNICORN_BIND=127.0.0.1:$APP_PORT
WEB_CONCURRENCY=3
# Leases of 50 rather than 500, so that two workers share a batch of a few hundred.
REMINDER_BATCH_SIZE=50
EOF

setup_or_die "migrate" manage migrate --noinput
setup_or_die "seed_demo" manage seed_demo
setup_or_die "collectstatic" manage collectstatic --noinput

# --- gunicorn, as portal-web.service starts it.
start web "$(unit_command portal-web.service ExecStart)"

# --- nginx: the production site with this machine's ports, certificate and paths.
site="$TMP/nginx/portal.conf"
sed -e "s#listen 80;#listen 127.0.0.1:$HTTP_PORT;#" \
    -e "s#listen 443 ssl http2;#listen 127.0.0.1:$HTTPS_PORT ssl http2;#" \
    -e '/listen \[::\]/d' \
    -e "s#ssl_certificate .*#ssl_certificate $TMP/tls.crt;#" \
    -e "s#ssl_certificate_key .*#ssl_certificate_key $TMP/tls.key;#" \
    -e "s#alias /srv/portal/staticfiles/;#alias $TMP/static/;#" \
    -e "s#server 127.0.0.1:8000 #server 127.0.0.1:$APP_PORT #" \
    deploy/nginx/portal.conf >"$site"
for expected in "127.0.0.1:$HTTP_PORT;" "127.0.0.1:$HTTPS_PORT ssl" "$TMP/tls.crt" "$TMP/tls.key" "$TMP/static/" \
    "server 127.0.0.1:$APP_PORT "; do
    grep -qF "$expected" "$site" || { fail "setup" "deploy/nginx/portal.conf changed shape: no $expected"; exit 1; }
done
cat >"$TMP/nginx/nginx.conf" <<EOF
user www-data;
worker_processes 2;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/error.log warn;
events { worker_connections 512; }
http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    sendfile on;
    access_log $TMP/nginx/access.log;
    client_body_temp_path $TMP/nginx/client_body;
    proxy_temp_path $TMP/nginx/proxy;
    fastcgi_temp_path $TMP/nginx/fastcgi;
    uwsgi_temp_path $TMP/nginx/uwsgi;
    scgi_temp_path $TMP/nginx/scgi;
    include $site;
}
EOF
nginx_cmd=(nginx -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf")

# --- Checks of the files themselves.
check_files() {
    "$PY" deploy/drill/checks.py settings-listed deploy/portal.env.example portal/settings.py deploy/gunicorn.conf.py \
        || return 1
    "${nginx_cmd[@]}" -t -q || return 1
    if command -v systemd-analyze >/dev/null 2>&1; then
        # The units with this checkout's paths, so that their programs exist.
        mkdir -p "$TMP/units"
        for unit in deploy/systemd/*; do
            sed "s#/srv/portal#$ROOT#g" "$unit" >"$TMP/units/$(basename "$unit")"
        done
        local out
        out=$(cd "$TMP/units" && systemd-analyze verify ./*.service ./*.timer 2>&1) || { echo "$out"; return 1; }
        [ -z "$out" ] || { echo "$out"; return 1; }
    fi
    manage check --deploy --fail-level WARNING || return 1
    echo "  env template complete; nginx -t ok; systemd-analyze verify clean; check --deploy clean"
}
run_check "deploy files (env template, nginx -t, units, check --deploy)" check_files

"${nginx_cmd[@]}" -g 'daemon off;' >"$TMP/log/nginx.log" 2>&1 &
pid_of[nginx]=$!
started+=(nginx)

# --- Wait for gunicorn through nginx.
ready=""
for _ in $(seq 120); do
    if curl -sk -o /dev/null --resolve "$HOST:$HTTPS_PORT:127.0.0.1" "$BASE/healthz"; then
        code=$(curl -sk -o /dev/null -w '%{http_code}' --resolve "$HOST:$HTTPS_PORT:127.0.0.1" "$BASE/healthz")
        [ "$code" = 200 ] && ready=1 && break
    fi
    alive web || break
    sleep 0.5
done
[ -n "$ready" ] || { fail "setup" "no 200 from /healthz through nginx (web running: $(alive web && echo yes || echo no), nginx: $(alive nginx && echo yes || echo no))"; exit 1; }

# --- Reminder workers, as portal-reminders@1 and @2 start them.
start reminders1 "$(unit_command 'portal-reminders@.service' ExecStart)"
start reminders2 "$(unit_command 'portal-reminders@.service' ExecStart)"

# The checks that look into the database read the same settings.
# None may hang the drill: the longest (a reminder batch) waits four minutes at most.
check() {
    timeout -k 10 400 bash -c "$AS_UNIT"'"$2" deploy/drill/checks.py "${@:3}"' "$TMP/portal.env" "$ROOT" "$PY" "$@"
}
run_check "http:// redirects to https://" check redirect --http-port "$HTTP_PORT" --host "$HOST"
run_check "static files from nginx" check static --base "$BASE" --app-log "$TMP/log/web.log"
run_check "patient journey in Chromium over https (Secure cookies, HSTS)" check journey --base "$BASE"
run_check "access log has the client's address from X-Forwarded-For" \
    check forwarded --base "$BASE" --app-log "$TMP/log/web.log"
run_check "graceful reload (SIGHUP) under a stream of requests: no 5xx" \
    check reload --base "$BASE" --master "${pid_of[web]}"
run_check "/healthz through nginx: database and reminders ok" check health --base "$BASE"

workers_alive() {
    local name
    for name in "$@"; do alive "$name" || { echo "  $name is not running"; return 1; }; done
}
both_workers() {
    workers_alive reminders1 reminders2 || return 1
    check reminders --slot morning --patients "$PATIENTS" --expect-each 1 --mail-dir "$TMP/mail" \
        --worker-logs "$TMP/log/reminders1.log" "$TMP/log/reminders2.log" || return 1
    workers_alive reminders1 reminders2
}
run_check "reminders for $PATIENTS patients, two workers: each sent once" both_workers

stop reminders1 KILL
one_worker() {
    alive reminders1 && { echo "  reminders1 survived SIGKILL"; return 1; }
    check reminders --slot evening --patients "$PATIENTS" --expect-each 2 --mail-dir "$TMP/mail" \
        --worker-logs "$TMP/log/reminders1.log" "$TMP/log/reminders2.log" || return 1
    workers_alive reminders2
}
run_check "reminders after one worker is killed (SIGKILL): the next batch once each" one_worker

# Quiet the database so that live and restored row counts can be compared exactly.
stop reminders2
cp "$TMP/portal.env" "$TMP/restored.env"
echo "DATABASE_URL=$PG/$RESTORED_DB" >>"$TMP/restored.env"
backup_restores() {
    local line dump compared
    # The service's own command lines, as the timer starts them.
    while IFS= read -r line; do
        as_unit "$TMP/portal.env" "$line" >/dev/null || { echo "  the timer's command failed: $line"; return 1; }
    done < <(unit_command portal-backup.service ExecStart; unit_command portal-backup.service ExecStartPost)
    dump=$(ls -t "$VAR"/backups/portal-*.dump 2>/dev/null | head -n 1)
    [ -n "$dump" ] || { echo "  no backup in $VAR/backups"; return 1; }
    [ "$(stat -c %a "$dump")" = 600 ] || { echo "  $dump is readable by others ($(stat -c %a "$dump"))"; return 1; }
    createdb -h 127.0.0.1 -U postgres "$RESTORED_DB" || return 1
    pg_restore --no-owner --exit-on-error -h 127.0.0.1 -U postgres -d "$RESTORED_DB" "$dump" || return 1
    PORTAL_ENV_FILE="$TMP/restored.env" PORTAL_USER="$(id -un)" deploy/manage.sh migrate --check >/dev/null || {
        echo "  the restored database is not at the code's migrations"
        return 1
    }
    compared=$(check compare-databases "$PG/$DB" "$PG/$RESTORED_DB") || { echo "$compared"; return 1; }
    echo "  $(basename "$dump") ($(stat -c %s "$dump") bytes) restored, ${compared#  }"
}
run_check "backup_db by the timer's command restores" backup_restores
