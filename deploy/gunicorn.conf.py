"""gunicorn settings for one EventHub instance: ``gunicorn -c deploy/gunicorn.conf.py``
(it serves ``eventhub.wsgi:app``), or ``eventhub serve``, which uses this file from a
checkout or from an installed wheel (the build ships it as ``eventhub/deploy/``). Run two
or more instances behind nginx (deploy/nginx.conf).

The gevent worker class was chosen by measurement (tests/perf/bench_polls.py and
tests/perf/bench_eventday.py): one open result stream costs a greenlet, not a thread,
so one worker holds thousands of phones; gevent:2 beat gevent:1 and gthread. Every
value can be overridden from the environment (names below) or on the command line.

Several instances may run on one host: what each keeps on disk (its control socket for
``gunicornc``, its workers' metrics folder) is named after its own listening address, so
no instance takes over or deletes another's.

This file imports nothing of EventHub: the master process stays free of the app's
modules, which the gevent workers import after patching.
"""

import os
import re
import resource
import shutil
import sys
import tempfile
from pathlib import Path

wsgi_app = "eventhub.wsgi:app"  # unless the command line names another
bind = os.environ.get("BIND", "127.0.0.1:8001")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# Open result streams plus requests per worker; the open-files limit is raised to match.
worker_connections = int(os.environ.get("WORKER_CONNECTIONS", "5000"))
backlog = 4096
timeout = 120
graceful_timeout = int(os.environ.get("GRACEFUL_TIMEOUT", "10"))  # then open streams are cut
# Longer than nginx's upstream keepalive_timeout (60 s), so nginx closes idle
# connections first and never reuses one gunicorn is closing.
keepalive = 75
# The longest request line gunicorn takes (its maximum): a long search address reaches the
# app. nginx refuses longer ones itself (large_client_header_buffers 8k), and so does the
# worker below, both with EventHub's Danish page.
limit_request_line = 8190
accesslog = None  # the app writes one JSON line per request (eventhub/observability.py)
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info")
proc_name = "eventhub-" + os.environ.get("INSTANCE_NAME", bind.rsplit(":", 1)[-1])


def worker_class():
    """gunicorn's gevent worker, answering a too-long address (414) with EventHub's page
    in Danish and English (eventhub/static/errors/414.html, as nginx does) rather than
    gunicorn's English one."""
    from gunicorn.http.errors import LimitRequestLine
    from gunicorn.util import write_nonblock
    from gunicorn.workers.ggevent import GeventWorker

    class EventHubWorker(GeventWorker):
        answer_414: bytes | None = None

        def handle_error(self, req, client, addr, exc):
            if not isinstance(exc, LimitRequestLine) or not self._page_414():
                return super().handle_error(req, client, addr, exc)
            self.log.warning("Request line too long from ip=%s: %s", (addr or ("",))[0], exc)
            try:
                write_nonblock(client, self.answer_414)
            except OSError:
                self.log.debug("Failed to send the 414 page.")
            return None

        def _page_414(self) -> bytes | None:
            # Read in the worker, from the package the worker serves the app from.
            if self.answer_414 is None and "eventhub" in sys.modules:
                page = (Path(sys.modules["eventhub"].__file__).parent / "static" / "errors"
                        / "414.html").read_bytes()
                type(self).answer_414 = (
                    b"HTTP/1.1 414 URI Too Long\r\nConnection: close\r\n"
                    b"Content-Type: text/html; charset=utf-8\r\nCache-Control: no-store\r\n"
                    b"Content-Length: %d\r\n\r\n" % len(page)) + page
            return self.answer_414

    return EventHubWorker


def instance_key(addresses: list[str]) -> str:
    """This instance's name on disk, from its listening address: ``127.0.0.1-8001``,
    ``unix-run-eventhub-app1.sock``. Two instances on one host never share an address."""
    return re.sub(r"[^A-Za-z0-9.]+", "-", addresses[0] if addresses else bind).strip("-")


def metrics_folder(base: str | None, key: str) -> tuple[Path, bool]:
    """(this instance's metrics folder, made here as a temp folder): ``base/key``, created
    0700 if missing; a clear SystemExit when it cannot be used."""
    if not base:
        return Path(tempfile.mkdtemp(prefix=f"eventhub-metrics-{key}-")), True
    folder = Path(base) / key
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise SystemExit(f"PROMETHEUS_MULTIPROC_DIR={base}: cannot create {folder} "
                         f"({exc.strerror}). Make it a folder the user running EventHub "
                         "may write to, or unset it.") from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise SystemExit(f"PROMETHEUS_MULTIPROC_DIR={base}: {folder} is not writable by "
                         "the user running EventHub.")
    return folder, False


def on_starting(server):
    """Raise the open-files limit; name this instance's control socket and metrics
    folder (shared by its workers) after its address."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 2 * worker_connections * server.cfg.workers + 1024
    target = want if hard == resource.RLIM_INFINITY else min(want, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    key = instance_key(list(server.cfg.bind))
    # gunicorn's default control socket ($XDG_RUNTIME_DIR/gunicorn.ctl, else
    # ~/.gunicorn/gunicorn.ctl) is one path for every instance on the host: the last one
    # started would take it over, the first one stopped delete it. Same folder, own name;
    # ``--control-socket PATH`` given on the command line is kept.
    socket = server.cfg.settings["control_socket"]
    if socket.value == socket.default:
        server.cfg.set("control_socket", os.path.join(os.path.dirname(socket.default),
                                                      f"eventhub-{key}.ctl"))
    if "INSTANCE_NAME" not in os.environ:
        server.cfg.set("proc_name", f"eventhub-{key}")
        server.proc_name = server.cfg.proc_name
    folder, made = metrics_folder(os.environ.get("PROMETHEUS_MULTIPROC_DIR"), key)
    if not server.master_pid:  # not a re-executed master, whose old workers still count
        for stale in folder.glob("*.db"):  # figures of this instance's earlier run
            stale.unlink()
    server.eventhub_metrics = folder
    server.eventhub_temp_metrics = folder if made else None


def post_fork(server, worker):
    """The worker (before it loads the app) writes its figures to this instance's folder.
    The master's own environment keeps the folder given, for a re-executed master."""
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(server.eventhub_metrics)


def child_exit(server, worker):
    """A dead worker's open-stream gauge must not count any more."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid, str(server.eventhub_metrics))


def on_exit(server):
    """Remove the metrics folder this instance made for itself."""
    folder = getattr(server, "eventhub_temp_metrics", None)
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)
