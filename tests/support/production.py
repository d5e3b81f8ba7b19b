"""Helpers for the production tests: free ports, a throwaway Redis, app processes and
Debian's nginx on loopback. Nothing here touches the shared Redis or PostgreSQL."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def run_coroutine(coro):
    """Run ``coro`` to its end on a fresh event loop in its own thread.

    The browser tests' Playwright (sync API) keeps an event loop running in the main
    thread for the whole test session, so ``asyncio.run`` there would refuse."""
    import asyncio

    outcome: dict = {}

    def run() -> None:
        try:
            outcome["value"] = asyncio.run(coro)
        except BaseException as exc:  # re-raised in the caller's thread
            outcome["error"] = exc

    thread = threading.Thread(target=run, name="asyncio-run")
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, timeout: float = 15.0, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on port {port}")


class RedisServer:
    """``redis-server --port P --save '' --appendonly no`` that can be stopped and started."""

    def __init__(self, port: int) -> None:
        self.port, self.proc = port, None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port, proc=self.proc)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        self.proc = None


@contextlib.contextmanager
def redis_server(port: int | None = None) -> Iterator[RedisServer]:
    server = RedisServer(port or free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()


class AppProcess:
    """One EventHub instance: gunicorn with the repository's deploy/gunicorn.conf.py."""

    def __init__(self, name: str, env: dict[str, str], log_dir: Path) -> None:
        self.name, self.port = name, free_port()
        self.log_path = log_dir / f"instance-{name}.log"
        self.env = {**os.environ, "WEB_CONCURRENCY": "1", **env, "INSTANCE_NAME": name,
                    "BIND": f"127.0.0.1:{self.port}", "PYTHONUNBUFFERED": "1"}
        self.env.pop("PROMETHEUS_MULTIPROC_DIR", None)  # each instance makes its own
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        gunicorn = Path(sys.executable).parent / "gunicorn"
        self.log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [str(gunicorn), "-c", str(REPO_ROOT / "deploy" / "gunicorn.conf.py"), "wsgi:app"],
            cwd=REPO_ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT,
            start_new_session=True)
        wait_for_port(self.port, 30, self.proc)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        self.proc = None
        if getattr(self, "log", None):
            self.log.close()

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")


def nginx_site(upstreams: list[int], listen_port: int, tls_port: int | None = None,
               cert_dir: Path | None = None) -> str:
    """deploy/nginx.conf, made to listen on loopback (plain ``listen_port``, TLS with
    HTTP/2 on ``tls_port`` with a self-signed certificate in ``cert_dir``) and forward
    to our instances."""
    site = (REPO_ROOT / "deploy" / "nginx.conf").read_text()
    servers = "".join(f"    server 127.0.0.1:{p} max_fails=1 fail_timeout=5s;\n"
                      for p in upstreams)
    start = site.index("    # upstream servers begin")
    end = site.index("    # upstream servers end")
    site = site[:start] + servers + site[end:]
    site = site.replace("listen 80;", f"listen 127.0.0.1:{listen_port};")
    site = site.replace("listen [::]:80;", "")
    site = site.replace("listen [::]:443 ssl http2;", "")
    site = site.replace("listen 443 ssl http2;", f"listen 127.0.0.1:{tls_port} ssl http2;")
    site = site.replace("/etc/ssl/eventhub/", f"{cert_dir}/")
    return site.replace("/srv/eventhub/eventhub/static/", f"{REPO_ROOT}/eventhub/static/")


def self_signed(folder: Path) -> None:
    """fullchain.pem and privkey.pem for 127.0.0.1, made with openssl."""
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=127.0.0.1", "-keyout", str(folder / "privkey.pem"),
         "-out", str(folder / "fullchain.pem")], check=True, capture_output=True)


class Nginx:
    """Debian's nginx in the foreground, with a temp prefix and a generated main config
    that includes the (adapted) site file from deploy/."""

    def __init__(self, prefix: Path, upstreams: list[int], connections: int = 4096) -> None:
        self.prefix, self.port, self.tls_port = prefix, free_port(), free_port()
        prefix.mkdir(parents=True, exist_ok=True)
        (prefix / "logs").mkdir(exist_ok=True)
        self_signed(prefix)
        (prefix / "eventhub.conf").write_text(
            nginx_site(upstreams, self.port, self.tls_port, prefix))
        user = "user root;\n" if os.geteuid() == 0 else ""
        temp = "".join(f"    {kind}_temp_path {prefix}/{kind}_temp;\n"
                       for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        (prefix / "nginx.conf").write_text(f"""{user}daemon off;
worker_processes 1;
worker_rlimit_nofile {2 * connections + 1024};
pid {prefix}/nginx.pid;
error_log {prefix}/logs/error.log warn;
events {{ worker_connections {connections}; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log {prefix}/logs/access.log;
{temp}    include {prefix}/eventhub.conf;
}}
""")
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        args = [NGINX, "-p", str(self.prefix), "-c", str(self.prefix / "nginx.conf"),
                "-e", str(self.prefix / "logs" / "error.log")]
        check = subprocess.run([*args, "-t"], capture_output=True, text=True)
        if check.returncode != 0:
            raise RuntimeError(check.stderr)
        # (its errors go to logs/error.log: -e above)
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port, proc=self.proc)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def get(url: str, timeout: float = 10.0) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
