"""gunicorn settings for one EventHub instance: ``gunicorn -c deploy/gunicorn.conf.py``
(it serves ``eventhub.wsgi:app``), or ``eventhub serve``, which uses this file from a
checkout or from an installed wheel (the build ships it as ``eventhub/deploy/``). Run two
or more instances behind nginx (deploy/nginx.conf).

The gevent worker class was chosen by measurement (tests/perf/bench_polls.py and
tests/perf/bench_eventday.py): one open result stream costs a greenlet, not a thread,
so one worker holds thousands of phones; gevent:2 beat gevent:1 and gthread. Every
value can be overridden from the environment (names below) or on the command line.
"""

import os
import resource
import tempfile
from pathlib import Path

wsgi_app = "eventhub.wsgi:app"  # unless the command line names another
bind = os.environ.get("BIND", "127.0.0.1:8001")
worker_class = "gevent"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# Open result streams plus requests per worker; the open-files limit is raised to match.
worker_connections = int(os.environ.get("WORKER_CONNECTIONS", "5000"))
backlog = 4096
timeout = 120
graceful_timeout = int(os.environ.get("GRACEFUL_TIMEOUT", "10"))  # then open streams are cut
# Longer than nginx's upstream keepalive_timeout (60 s), so nginx closes idle
# connections first and never reuses one gunicorn is closing.
keepalive = 75
accesslog = None  # the app writes one JSON line per request (eventhub/observability.py)
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info")
proc_name = "eventhub-" + os.environ.get("INSTANCE_NAME", bind.rsplit(":", 1)[-1])


def on_starting(server):
    """Raise the open-files limit; one metrics folder shared by this instance's workers."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 2 * worker_connections * workers + 1024
    target = want if hard == resource.RLIM_INFINITY else min(want, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        for stale in Path(folder).glob("*.db"):  # figures of an earlier run
            stale.unlink()
    else:
        folder = tempfile.mkdtemp(prefix="eventhub-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = folder


def child_exit(server, worker):
    """A dead worker's open-stream gauge must not count any more."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
