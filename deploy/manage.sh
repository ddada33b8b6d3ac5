#!/bin/sh
# Run a manage.py command the way the services run: as the portal user, with
# the settings from /etc/portal/portal.env, e.g.
#   sudo /srv/portal/deploy/manage.sh migrate
#   sudo /srv/portal/deploy/manage.sh createsuperuser
# PORTAL_ENV_FILE and PORTAL_USER override the two defaults (the drill uses them).
set -eu
app=$(cd "$(dirname "$0")/.." && pwd)
env_file=${PORTAL_ENV_FILE:-/etc/portal/portal.env}
user=${PORTAL_USER:-portal}
# The settings are read as the service user: the file is root:portal 0640.
run='set -a; . "$1"; set +a; shift; cd "$0" && exec "$0/.venv/bin/python" manage.py "$@"'
if [ "$(id -un)" = "$user" ]; then
    exec sh -c "$run" "$app" "$env_file" "$@"
fi
exec runuser -u "$user" -- sh -c "$run" "$app" "$env_file" "$@"
