"""What a team would build by hand, for bench/run.py to serve beside the generated service.

Flask, prometheus-flask-exporter in gunicorn's multiprocess mode and python-json-logger,
written from those libraries' own documentation: the exporter's README for gunicorn
(`GunicornInternalPrometheusMetrics`, which serves /metrics on the app as the generated
service does, and the `child_exit` hook marking a dead worker's files), and
python-json-logger's quick start (`JsonFormatter` on a handler) with one access line per
request, written by an `after_request` hook carrying a request id taken from X-Request-ID
or made. GET /work answers the JSON the other apps answer and is counted; /livez is not
(`do_not_track`), as the generated service counts no probe.

bench/run.py installs it in an environment of its own, each library it shares with the
generated service at the version that service's lock names, and serves it with bare
Flask's gunicorn settings, `PROMETHEUS_MULTIPROC_DIR` set by the environment as the
exporter's and prometheus_client's documentation ask (a fresh folder each start).
"""

from __future__ import annotations

#: The team's requirements. The exporter is no dependency of the generated service: the
#: version measured, so a run next year measures the same code.
REQUIREMENTS = ("flask", "gunicorn", "prometheus-flask-exporter==0.23.2", "python-json-logger")
#: The module gunicorn serves (`handbuilt_app:app`).
APP = '''\
"""The service: GET /work, counted by the metrics, and one JSON access line a request."""

import logging
import sys
import time
import uuid

from flask import Flask, g, request
from prometheus_flask_exporter.multiprocess import GunicornInternalPrometheusMetrics
from pythonjsonlogger.json import JsonFormatter

handler = logging.StreamHandler(sys.stdout)
handler.setFormatter(
    JsonFormatter(
        "{levelname}{name}{message}",
        style="{",
        rename_fields={"levelname": "level", "name": "logger"},
        timestamp=True,
    )
)
access_log = logging.getLogger("access")
access_log.addHandler(handler)
access_log.setLevel(logging.INFO)
access_log.propagate = False

app = Flask(__name__)
metrics = GunicornInternalPrometheusMetrics(app)


@app.before_request
def start_request():
    g.started = time.perf_counter()
    g.request_id = request.headers.get("X-Request-ID") or uuid.uuid4().hex


@app.after_request
def log_request(response):
    response.headers["X-Request-ID"] = g.request_id
    access_log.info(
        "%s %s %s",
        request.method,
        request.path,
        response.status_code,
        extra={
            "request_id": g.request_id,
            "method": request.method,
            "path": request.path,
            "status": response.status_code,
            "duration_ms": round((time.perf_counter() - g.started) * 1000, 3),
            "size": response.content_length,
            "client": request.remote_addr,
            "user_agent": request.user_agent.string,
        },
    )
    return response


@app.get("/livez")
@metrics.do_not_track()
def live():
    return {"status": "ok"}


@app.get("/work")
def work():
    return {"status": "ok"}
'''
#: Its gunicorn config: the hook the exporter's README asks for; every other setting is on
#: the command line, the same as bare Flask's.
GUNICORN_CONF = '''\
"""gunicorn settings of the hand-built service: the rest is on the command line."""

from prometheus_flask_exporter.multiprocess import GunicornInternalPrometheusMetrics


def child_exit(server, worker):
    GunicornInternalPrometheusMetrics.mark_process_dead_on_child_exit(worker.pid)
'''
