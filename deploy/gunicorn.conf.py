"""gunicorn for Tongxin (docs/deploy.md): ``gunicorn -c deploy/gunicorn.conf.py tongxin.wsgi``.

Sized for a county server of 2 cores. nginx in front ends TLS, buffers slow clients and
uploads, and serves nothing else; only it reaches this socket.
"""

import os

# Where nginx reaches gunicorn: a Unix socket systemd's RuntimeDirectory makes (the command
# line's --bind wins, as the tests use it).
bind = os.environ.get("GUNICORN_BIND", "unix:/run/tongxin/gunicorn.sock")

# Synchronous workers, 2 × cores + 1: a request waits on the database about as long as it
# computes, and nginx buffers slow clients, so a worker is never held by a slow network.
# Heavy work (ledger checks and imports, big exports) runs in the tasks worker, not here.
workers = int(os.environ.get("WEB_CONCURRENCY", "5"))
worker_class = "sync"
# The slowest page (an export written at once, up to TONGXIN_EXPORT_INLINE_ROWS rows) takes a
# few seconds; a worker silent for a minute is stuck and is replaced.
timeout = 60
graceful_timeout = 30
keepalive = 5
# A fresh worker now and then: memory a long-lived process gathers is given back.
max_requests = 2000
max_requests_jitter = 200

# Request size limits: the request line (a URL with its query), the number and size of
# headers. The body's limit is nginx's client_max_body_size and Django's own checks.
limit_request_line = 4094
limit_request_fields = 60
limit_request_field_size = 8190

# No control socket (gunicorn 25+ opens one in the home folder, which systemd keeps read-only):
# systemctl reload and restart do what it would.
control_socket_disable = True

# The application's own address and scheme come from nginx's X-Forwarded-Proto (settings
# BEHIND_PROXY=1); gunicorn trusts it only from the local nginx.
forwarded_allow_ips = "127.0.0.1,::1"
# The socket: read and written by its owner and group (nginx is a member), no one else.
umask = 0o007

# Logs to standard error, which journald keeps. The access log names the path only: never
# the query string (%(r)s, %(q)s: a search by ID number travels in one) nor the referring page
# (%(f)s, which carries the previous page's query string), nor the user agent.
accesslog = "-"
errorlog = "-"
access_log_format = "%(t)s %(m)s %(U)s %(s)s %(B)s %(M)sms"
# gunicorn's own errors as JSON lines, as Django's: a request that fails past Django is logged
# with its URI and the exception's text ("Error handling request GET /children/?q=…"); the
# formatter cuts query strings and writes the exception's type and frames only.
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "root": {"level": "WARNING", "handlers": []},
    "formatters": {
        "json": {"()": "tongxin.core.logging.JSONFormatter"},
        "access": {"format": "%(message)s"},
    },
    "handlers": {
        "error": {"class": "logging.StreamHandler", "formatter": "json"},
        "access": {"class": "logging.StreamHandler", "formatter": "access"},
    },
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": ["error"], "propagate": False},
        "gunicorn.access": {"level": "INFO", "handlers": ["access"], "propagate": False},
    },
}
