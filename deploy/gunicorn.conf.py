"""gunicorn settings for the portal (read by deploy/systemd/portal-web.service).

Knobs come from the same environment file as Django's settings
(/etc/portal/portal.env); the defaults suit one small server behind nginx.
"""

import multiprocessing
import os

wsgi_app = "portal.wsgi:application"

# nginx on this machine talks to gunicorn over loopback. With nginx on other
# machines, bind a private address and let only those machines reach it:
# Django trusts X-Forwarded-Proto from whoever can connect here.
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000").split(",")

# Sync workers: nginx buffers slow clients, so a worker is only busy while the
# view runs. PDF handouts are the slowest views (about a second of CPU).
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 60))
# SIGHUP (systemctl reload) starts new workers on the new code, then gives the
# old ones this long to finish the requests they hold: no request is dropped.
graceful_timeout = 30
# Never preload: the app must be imported by each new worker for a reload to
# pick up new code.
preload_app = False
# Recycle workers now and then so a slow leak cannot grow without bound.
max_requests = 2000
max_requests_jitter = 200

# systemd restarts and reloads by signal, not through gunicorn's control socket
# (which would otherwise be created under $HOME).
control_socket_disable = True

# Access log to stdout (journald). %(h)s is nginx; the client is in X-Forwarded-For.
accesslog = "-"
access_log_format = '%(h)s "%({x-forwarded-for}i)s" %(t)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'
errorlog = "-"
