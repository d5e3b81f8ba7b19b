"""The ``eventhub`` command as an operator runs it (a subprocess, EVENTHUB_ENV=production):
the metrics folder made when missing and named when unusable, and two ``eventhub serve``
on one host at once, each with its own control socket and metrics folder."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from gunicorn.ctl.client import ControlClient

from tests.support.production import REPO_ROOT, free_port, get, wait_for_port

HEALTHZ_OK = 'eventhub_requests_total{endpoint="site.healthz",method="GET",status="200"}'


def production_env(database_uri: str, tmp: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in (
        "PROMETHEUS_MULTIPROC_DIR", "BIND", "INSTANCE_NAME", "XDG_RUNTIME_DIR")}
    env.update(EVENTHUB_ENV="production", SECRET_KEY="production-test-secret",
               DATABASE_URL=database_uri, EVENTHUB_INSTANCE=str(tmp / "instance"),
               MAIL_FOLDER=str(tmp / "mail"), WEB_CONCURRENCY="1", LOG_LEVEL="warning",
               GRACEFUL_TIMEOUT="1", LOG_REQUESTS="false", PYTHONUNBUFFERED="1",
               PYTHONPATH=str(REPO_ROOT), **extra)
    return env


def eventhub_command(*args: str) -> list[str]:
    return [sys.executable, "-c", "from eventhub.cli import main; main()", *args]


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(eventhub_command(*args), env=env, cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("args", [("db", "upgrade"), ("send-mail",), ("upgrade-db",)])
def test_a_command_makes_a_missing_metrics_folder_and_writes_nothing_there(
        database_uri, tmp_path, args):
    folder = tmp_path / "run" / "metrics"
    done = run(production_env(database_uri, tmp_path, PROMETHEUS_MULTIPROC_DIR=str(folder)),
               *args)
    assert done.returncode == 0, done.stderr
    assert folder.is_dir() and stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert not list(folder.iterdir())  # a command that serves nothing counts nothing


@pytest.mark.parametrize("args", [("db", "upgrade"), ("send-mail",),
                                  ("serve", "--bind", "127.0.0.1:1")])
def test_a_metrics_folder_that_cannot_be_made_is_named_in_one_line(database_uri, tmp_path,
                                                                    args):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    done = run(production_env(database_uri, tmp_path,
                              PROMETHEUS_MULTIPROC_DIR=str(blocker / "metrics")), *args)
    assert done.returncode == 1
    assert f"Error: PROMETHEUS_MULTIPROC_DIR={blocker / 'metrics'}: cannot create the " \
           "folder (Not a directory)." in done.stderr
    assert "Traceback" not in done.stderr


class Serve:
    """``eventhub serve --bind 127.0.0.1:PORT`` in a process group of its own."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.log = open(log, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            eventhub_command("serve", "--bind", f"127.0.0.1:{self.port}"), env=env,
            cwd=REPO_ROOT, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        wait_for_port(self.port, 60, self.proc)

    @property
    def key(self) -> str:
        return f"127.0.0.1-{self.port}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        self.log.close()


def wait_for_socket(path: Path, timeout: float = 20.0) -> None:
    """gunicorn opens its control socket once the workers are up, after the port."""
    deadline = time.monotonic() + timeout
    while not path.is_socket():
        assert time.monotonic() < deadline, f"no control socket at {path}"
        time.sleep(0.1)


def control(path: Path, command: str) -> dict:
    with ControlClient(str(path), timeout=10) as client:
        return client.send_command(command)


def metric(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.rsplit(" ", 1)[0] == name:
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_two_instances_on_one_host_keep_their_own_control_socket_and_metrics(
        database_uri, tmp_path):
    runtime, metrics = tmp_path / "run", tmp_path / "metrics"  # metrics: not made yet
    runtime.mkdir()
    env = production_env(database_uri, tmp_path, XDG_RUNTIME_DIR=str(runtime),
                         PROMETHEUS_MULTIPROC_DIR=str(metrics))
    a = Serve(env, tmp_path / "a.log")
    try:
        b = Serve(env, tmp_path / "b.log")
        try:
            sockets = {s: runtime / f"eventhub-{s.key}.ctl" for s in (a, b)}
            for path in sockets.values():
                wait_for_socket(path)
            # Each master answers on a socket of its own (`eventhub serve` became gunicorn).
            reached = {control(path, "show stats")["pid"] for path in runtime.glob("*.ctl")}
            assert reached == {a.proc.pid, b.proc.pid}
            for instance, path in sockets.items():
                assert control(path, "show stats")["pid"] == instance.proc.pid
                assert stat.S_IMODE((metrics / instance.key).stat().st_mode) == 0o700
            assert not (runtime / "gunicorn.ctl").exists()

            for _ in range(3):
                assert get(f"http://127.0.0.1:{a.port}/healthz")[0] == 200
            status, body = get(f"http://127.0.0.1:{a.port}/metrics")
            assert status == 200 and metric(body.decode(), HEALTHZ_OK) == 3
            status, body = get(f"http://127.0.0.1:{b.port}/metrics")
            assert status == 200 and metric(body.decode(), HEALTHZ_OK) == 0

            a.stop()  # stopping one leaves the other's socket alone
            assert sockets[b].is_socket()
            assert control(sockets[b], "show stats")["pid"] == b.proc.pid
        finally:
            b.stop()
    finally:
        a.stop()
