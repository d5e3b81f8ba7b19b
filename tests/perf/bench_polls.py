"""Benchmark: a live poll with thousands of phones, under gunicorn on PostgreSQL and Redis.

Not a pytest test (pytest collects ``test_*.py`` only). Run it from the repository:

    /work/venv/bin/python tests/perf/bench_polls.py [--phones 2000] [--window 5]
        [--server gevent:2] [--variants gevent:2,gevent:1,gthread:2x2100]
        [--client-procs 2] [--profile DIR]
    /work/venv/bin/python tests/perf/bench_polls.py --polls 5 --phones 2000 --window 10

With ``--polls N`` (N > 1) it runs the session instead: N polls open at once, every
phone holding ONE stream (the join page's, ``/j/<code>/stream``) and voting on each
poll; see ``run_multi`` below.

What it does, by itself:

1. creates a PostgreSQL database of its own (``eventhub_bench_<random>`` on ``--pg``,
   default ``postgresql://postgres@127.0.0.1:5432``; dropped at the end), runs the
   migrations, and per server setup adds a published event with one OPEN single-choice
   poll (four options, results visible, audience "anyone");
2. starts gunicorn from the repository root (``<venv>/bin/gunicorn -k KIND -w N
   -b 127.0.0.1:<free port> wsgi:app``) with ``DATABASE_URL``, ``REDIS_URL``
   (``--redis``), ``SECRET_KEY=bench``, ``RATELIMIT_ENABLED=false`` and
   ``EVENTHUB_INSTANCE=<tmp>``, its open-files limit raised, and waits for ``/healthz``;
3. ``--phones`` simulated phones (asyncio + aiohttp, split over ``--client-procs``
   processes) each open ``GET /j/<code>`` (the signed ``eh_voter`` cookie, the session
   cookie, the form's CSRF token and the vote token bound to the voter cookie), then
   open the result stream ``GET /j/<code>/polls/<id>/stream`` and keep it (read with a
   plain asyncio protocol, not aiohttp: the phones share the cores with the server;
   every byte is read, a snapshot's ``voters`` count is found without parsing its JSON,
   which is parsed whole only for the snapshot that reaches a target).
   The run goes on once every stream has its first snapshot;
4. fan-out alone: a "changed" signal through Redis every 0.25 s for ``--fanout-seconds``,
   no votes; gunicorn's CPU divided by the snapshots the phones received = the cost of
   one stream update;
5. the vote: each phone posts exactly one vote the way ``poll.js`` does (the form's
   fields ``csrf_token`` and ``choice`` url-encoded, ``Accept: application/json``,
   ``X-Vote-Token`` from the page, ``Origin`` → ``200 {"ok": true}``) at a random
   moment within ``--window`` seconds (open loop: a slow server does not slow the phones
   down), phone *i* choosing option *i mod 4*. Latency is measured per POST; votes/s =
   votes / (first POST sent → last response). Every stream notes when its first snapshot
   with ``voters == phones`` arrived, measured from the last vote's response. Then
   lost = phones − votes in the database;
6. capacity, in the same run, with the phones' streams still open: ``--concurrency``
   keep-alive connections post ``--capacity-votes`` more votes as poll.js does (new
   voters; their ``eh_voter`` cookies and vote tokens are made here with the bench's
   SECRET_KEY, and every form body is encoded before the clock starts, as a phone would
   on its own CPU) back to back on the same poll, and fetch the bare endpoint
   ``GET /static/favicon.svg`` (Flask's static route: a constant file, no database) the
   same number of times the same way; votes and the bare endpoint take turns in
   ``--rounds`` rounds (default 4, with a 1 s pause after each, so the snapshots that
   follow a round of votes are sent before the bare round starts), so a drift in the
   machine's speed weighs on both alike. Then ``GET /healthz`` (one ``SELECT 1``) the
   same way, for comparison.
   ratio = vote capacity / bare capacity (each: requests / time over all its rounds; the
   per-round ratios are printed too): the phones' own votes/s cannot exceed what they
   offer (phones / window), so it would not say how close a vote gets to the bare
   endpoint. The streams must then show the new total too;
7. reads the votes from the database: every vote cast must be there, and the per-option
   counts must equal what was sent (and what the final snapshots said).

Targets (exit status 1 when missed, judged on the first setup listed): 0 lost votes and
0 failed votes, vote latency p99 < 300 ms, every stream final within 1 s of the last vote,
ratio ≥ 0.5.

``--server KIND:SPEC``: ``gevent:2`` = 2 gevent workers; ``gthread:2x2100`` = 2 workers
with 2100 threads each (a held stream occupies a thread, and nothing makes gunicorn's
workers share the connections evenly, so each worker needs threads for all streams plus
the votes). ``--variants a,b`` runs everything (fresh event, fresh gunicorn) once per
setup and prints a comparison.

``--profile DIR`` samples every worker with py-spy (``--gil``: the thread holding the
interpreter) during the fan-out, from the vote until every stream is final, and during
the capacity votes, and prints where the time goes; the raw stacks stay in DIR.

Everything (clients, gunicorn, PostgreSQL, Redis) shares this machine's cores, so the
CPU used by each part during the vote is printed, including "other" (processes that are
not part of the run). Requires ``aiohttp`` (and ``gevent`` for the gevent worker) in the
virtualenv; the phones use ``uvloop`` when it is installed (the ``load`` extra), which
about halves what reading the streams costs them, and the table says which loop ran.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import re
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from tests.support.bench import (  # noqa: E402
    create_database,
    drop_database,
    percentile,
    sqlalchemy_url,
)

OPTIONS = ("Ejerskab", "Tid", "Budget", "Kompetencer")
BARE_PATH = "/static/favicon.svg"
TARGET_P99 = 0.300
TARGET_FINAL = 1.0
TARGET_RATIO = 0.5
SETTLE = 1.0  # seconds between capacity rounds: the last snapshots of a round go out
DEFAULT_SERVER = "gevent:2"
CSRF_RE = re.compile(rb'name="csrf_token"[^>]*?value="([^"]+)"')
VOTE_TOKEN_RE = re.compile(rb'data-vote-token="([^"]+)"')
VOTERS_RE = re.compile(rb'"voters":\s*(\d+)')


def raise_nofile(want: int = 65536) -> int:
    """Raise this process's open-files limit as far as the hard limit allows."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = want if hard == resource.RLIM_INFINITY else min(want, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]



def cookie_header(cookies: dict[str, str]) -> str:
    return "; ".join(f"{k}={v}" for k, v in cookies.items())


# Phones (client processes) ---------------------------------------------------------------


@dataclass
class Phone:
    index: int
    option: int
    cookies: dict[str, str] = field(default_factory=dict)
    csrf: str = ""
    vote_token: str = ""
    snapshots: int = 0
    voters: int = -1
    first_at: float | None = None  # first snapshot (stream connected)
    final_at: dict[int, float] = field(default_factory=dict)  # target -> arrival
    final_counts: dict[int, list[int]] = field(default_factory=dict)
    stream_error: str | None = None
    stream_closed: bool = False
    vote: dict | None = None


SNAPSHOT_MARK = b"event: snapshot\ndata: "
VOTERS_KEY = b'"voters":'


class SSEReader(asyncio.Protocol):
    """One phone's result stream, read straight off the socket. A snapshot is the data
    line after ``SNAPSHOT_MARK``, complete at the blank line after it; chunk-size lines
    and heartbeats fall between them. Every byte is received and scanned, but cheaply:
    the server writes every SSE message as one HTTP chunk, so in the usual case a read
    holds whole messages and ends with the chunk's ``\r\n`` (nothing is carried over to
    the next read), and a snapshot's JSON is not parsed, only its ``voters`` count read
    (the whole JSON only when a target is reached)."""

    def __init__(self, client: PhoneClient, phone: Phone, request: bytes,
                 loop: asyncio.AbstractEventLoop) -> None:
        self.client, self.phone, self.request = client, phone, request
        self.opened: asyncio.Future = loop.create_future()  # first snapshot
        self.closed: asyncio.Future = loop.create_future()
        self.gate_released = False
        self.buf = b""
        self.headers_done = False

    def connection_made(self, transport) -> None:
        transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        now = time.monotonic()
        if self.buf:
            data, self.buf = self.buf + data, b""
        if not self.headers_done:
            end = data.find(b"\r\n\r\n")
            if end < 0:
                self.buf = data
                return
            if not data.startswith(b"HTTP/1.1 200"):
                self.phone.stream_error = f"GET stream {data[:12].decode(errors='replace')}"
                self._finish()
                return
            self.headers_done, data = True, data[end + 4:]
        pos = 0
        while (start := data.find(SNAPSHOT_MARK, pos)) >= 0:
            begin = start + len(SNAPSHOT_MARK)
            # The JSON holds no raw newline: its line ends at the first one, and the
            # message at the blank line right after it. (find of one byte is a memchr.)
            end = data.find(b"\n", begin)
            if end < 0 or end + 1 >= len(data):
                self.buf = data[start:]  # the rest of this message comes with the next read
                return
            if data[end + 1] != 10:  # b"\n"
                self.phone.stream_error = "snapshot: more than one data line"
                self._finish()
                return
            self.client.on_snapshot(self.phone, data, begin, end, now)
            if not self.opened.done():
                self.opened.set_result(None)
            pos = end + 2
        # A read ending with the chunk's b"\r\n" cannot end inside a mark (it holds no
        # b"\r"); otherwise keep the tail a mark may have been cut in two at.
        if not data.endswith(b"\r\n"):
            self.buf = data[max(pos, len(data) - len(SNAPSHOT_MARK) + 1):]

    def connection_lost(self, exc) -> None:
        if exc is not None and self.phone.stream_error is None:
            self.phone.stream_error = f"{type(exc).__name__}: {exc}"
        self._finish()

    def _finish(self) -> None:
        for future in (self.opened, self.closed):
            if not future.done():
                future.set_result(None)


class PhoneClient:
    """One client process: a share of the phones, driven by commands on stdin."""

    def __init__(self, spec: dict):
        self.spec = spec
        self.base = f"http://127.0.0.1:{spec['port']}"
        self.code = spec["code"]
        self.poll_id = spec["poll_id"]
        opts = spec["option_ids"]
        self.phones = [Phone(i, opts[i % len(opts)]) for i in spec["phones"]]
        self.targets: list[int] = sorted(spec["targets"])
        self.connected = 0
        self.all_connected = asyncio.Event()
        self.commands: asyncio.Queue = asyncio.Queue()
        self.stream_tasks: list[asyncio.Task] = []

    @staticmethod
    def emit(message: dict) -> None:
        sys.stdout.write(json.dumps(message) + "\n")
        sys.stdout.flush()

    def _read_stdin(self, loop: asyncio.AbstractEventLoop) -> None:
        for line in sys.stdin:
            if line.strip():
                loop.call_soon_threadsafe(self.commands.put_nowait, json.loads(line))
        loop.call_soon_threadsafe(self.commands.put_nowait, {"cmd": "quit"})

    async def run(self) -> None:
        import aiohttp

        loop = asyncio.get_running_loop()
        threading.Thread(target=self._read_stdin, args=(loop,), daemon=True).start()
        # keepalive_timeout below gunicorn's --keep-alive, so a reused connection is open.
        requests = aiohttp.TCPConnector(limit=0, keepalive_timeout=3.0)
        jar = aiohttp.DummyCookieJar()  # every phone sends its own cookies
        async with aiohttp.ClientSession(
                self.base, connector=requests, cookie_jar=jar,
                timeout=aiohttp.ClientTimeout(total=120)) as http:
            self.http = http
            t0 = time.monotonic()
            gate = asyncio.Semaphore(self.spec["setup_concurrency"])
            joined = await asyncio.gather(*(self.join(p, gate) for p in self.phones))
            join_errors = [e for e in joined if e]
            t1 = time.monotonic()
            for phone in self.phones:
                self.stream_tasks.append(asyncio.create_task(self.stream(phone, gate)))
            try:
                await asyncio.wait_for(self.all_connected.wait(), self.spec["connect_timeout"])
            except TimeoutError:
                pass
            t2 = time.monotonic()
            self.emit({"event": "ready", "join_seconds": t1 - t0, "stream_seconds": t2 - t1,
                       "join_errors": join_errors[:5], "join_failed": len(join_errors),
                       "connected": self.connected,
                       "loop": type(loop).__module__.partition(".")[0]})
            watcher = asyncio.create_task(self.watch_finals())
            while True:
                cmd = await self.commands.get()
                if cmd["cmd"] == "vote":
                    await self.vote_all(cmd["t0"], cmd["window"], cmd["seed"])
                elif cmd["cmd"] == "count":
                    self.emit({"event": "count",
                               "snapshots": sum(p.snapshots for p in self.phones)})
                elif cmd["cmd"] == "report":
                    self.emit({"event": "report", "phones": [
                        {"i": p.index, "option": p.option, "snapshots": p.snapshots,
                         "voters": p.voters, "first_at": p.first_at,
                         "final_at": {str(k): v for k, v in p.final_at.items()},
                         "final_counts": {str(k): v for k, v in p.final_counts.items()},
                         "error": p.stream_error, "closed": p.stream_closed,
                         "vote": p.vote} for p in self.phones]})
                elif cmd["cmd"] == "quit":
                    break
            watcher.cancel()
            for task in self.stream_tasks:
                task.cancel()
            await asyncio.gather(*self.stream_tasks, return_exceptions=True)

    async def join(self, phone: Phone, gate: asyncio.Semaphore) -> str | None:
        async with gate:
            try:
                async with self.http.get(f"/j/{self.code}") as resp:
                    body = await resp.read()
                    if resp.status != 200:
                        return f"GET /j {resp.status}"
                    phone.cookies = {k: m.value for k, m in resp.cookies.items()}
            except Exception as exc:  # noqa: BLE001 - counted
                return f"GET /j {type(exc).__name__}: {exc}"
        match = CSRF_RE.search(body)
        if not match:
            return "GET /j: no CSRF token"
        phone.csrf = match.group(1).decode()
        token = VOTE_TOKEN_RE.search(body)
        if not token:
            return "GET /j: no vote token"
        phone.vote_token = token.group(1).decode()
        if "eh_voter" not in phone.cookies or "session" not in phone.cookies:
            return f"GET /j: cookies {sorted(phone.cookies)}"
        return None

    async def stream(self, phone: Phone, gate: asyncio.Semaphore) -> None:
        """Hold the result stream. Read with a plain asyncio protocol rather than aiohttp:
        the phones share this machine's cores with the server, and aiohttp's per-message
        wake-ups cost the phones about as much CPU as the server spends sending."""
        loop = asyncio.get_running_loop()
        request = (f"GET /j/{self.code}/polls/{self.poll_id}/stream HTTP/1.1\r\n"
                   f"Host: 127.0.0.1:{self.spec['port']}\r\nAccept: text/event-stream\r\n"
                   f"Cookie: {cookie_header(phone.cookies)}\r\n\r\n").encode()
        protocol = SSEReader(self, phone, request, loop)
        await gate.acquire()
        transport = None
        try:
            transport, _ = await asyncio.wait_for(loop.create_connection(
                lambda: protocol, "127.0.0.1", self.spec["port"]), 60)
            await protocol.opened
            gate.release()
            protocol.gate_released = True
            await protocol.closed
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - counted
            phone.stream_error = phone.stream_error or f"{type(exc).__name__}: {exc}"
        finally:
            phone.stream_closed = True
            if transport is not None:
                transport.close()
            if not protocol.gate_released:
                gate.release()

    def on_snapshot(self, phone: Phone, data: bytes, begin: int, end: int,
                    now: float) -> None:
        """One snapshot event; its JSON is ``data[begin:end]``."""
        key = data.find(VOTERS_KEY, begin, end)
        comma = data.find(b",", key, end) if key >= 0 else -1
        try:  # json.dumps writes '"voters": 1234,'; int() skips the space
            voters = int(data[key + len(VOTERS_KEY):comma]) if comma >= 0 else None
        except ValueError:
            voters = None
        if voters is None:  # written some other way (no key, last key, ...): the slow way
            match = VOTERS_RE.search(data, begin, end)
            voters = int(match.group(1)) if match else -1
        phone.snapshots += 1
        phone.voters = voters
        if phone.first_at is None:
            phone.first_at = now
            self.connected += 1
            if self.connected == len(self.phones):
                self.all_connected.set()
        if voters >= self.targets[0]:  # the targets in ascending order
            for target in self.targets:
                if voters >= target and target not in phone.final_at:
                    phone.final_at[target] = now
                    snap = json.loads(data[begin:end])
                    phone.final_counts[target] = [o["count"] for o in snap.get("options", [])]

    async def watch_finals(self) -> None:
        pending = list(self.targets)
        while pending:
            await asyncio.sleep(0.02)
            for target in list(pending):
                if all(target in p.final_at for p in self.phones):
                    pending.remove(target)
                    self.emit({"event": "final", "target": target,
                               "last": max(p.final_at[target] for p in self.phones)})

    async def vote_all(self, t0: float, window: float, seed: int) -> None:
        rng = random.Random(seed)
        await asyncio.gather(*(self.vote(p, t0 + rng.uniform(0, window))
                               for p in self.phones))
        self.emit({"event": "voted"})

    async def vote(self, phone: Phone, at: float) -> None:
        # The form is encoded before the phone's moment comes (on a real phone that CPU
        # is the phone's own; here the phones share the server's cores).
        body = urlencode({"csrf_token": phone.csrf, "choice": str(phone.option)}).encode()
        delay = at - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        sent = time.monotonic()
        record = {"at": at, "sent": sent, "done": None, "status": None, "error": None}
        phone.vote = record
        try:
            async with self.http.post(
                    f"/j/{self.code}/polls/{self.poll_id}/vote", data=body,
                    headers={"Content-Type": "application/x-www-form-urlencoded",
                             "Accept": "application/json", "Origin": self.base,
                             "X-Vote-Token": phone.vote_token,
                             "Cookie": cookie_header(phone.cookies)}) as resp:
                body = await resp.read()
                record["status"] = resp.status
                if resp.status != 200 or json.loads(body).get("ok") is not True:
                    record["error"] = f"POST vote {resp.status} {body[:120]!r}"
        except Exception as exc:  # noqa: BLE001 - counted
            record["error"] = f"{type(exc).__name__}: {exc}"
        record["done"] = time.monotonic()


def client_main() -> None:
    raise_nofile()
    spec = json.loads(sys.stdin.readline())
    try:
        import uvloop  # optional: a cheaper event loop leaves more CPU to the server

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(PhoneClient(spec).run())


# Database -------------------------------------------------------------------------------


def make_app(db_uri: str, instance: Path):
    from eventhub import create_app

    return create_app({
        "SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": db_uri, "REDIS_URL": None,
        "MAIL_BACKEND": "folder", "MAIL_FOLDER": str(instance / "mail"),
        "MAIL_DELIVER_IN_PROCESS": False, "RATELIMIT_ENABLED": False,
    })


def migrate(db_uri: str, instance: Path) -> None:
    import logging

    from flask_migrate import upgrade

    from eventhub.extensions import db

    app = make_app(db_uri, instance)
    with app.app_context():
        upgrade()
        logging.getLogger("alembic").setLevel(logging.WARNING)
        db.engine.dispose()


def create_poll(db_uri: str, instance: Path, index: int) -> tuple[str, int, list[int]]:
    """A published event with one open single-choice poll: (join code, poll id, options)."""
    from datetime import UTC, datetime, timedelta

    from eventhub.db import utcnow
    from eventhub.events.models import Event
    from eventhub.extensions import db
    from eventhub.polls.models import Poll, PollOption

    app = make_app(db_uri, instance)
    start = datetime.now(UTC).replace(microsecond=0)
    with app.app_context():
        event = Event(slug=f"afstemning-{index}", title="Del & Genbrug – live afstemning",
                      venue="Odense Congress Center", starts_at=start,
                      ends_at=start + timedelta(hours=8), status="published")
        db.session.add(event)
        db.session.flush()
        poll = Poll(event_id=event.id, question="Hvad er den største barriere for genbrug?",
                    kind="single", status="open", audience="anyone", results_visible=True,
                    opened_at=utcnow(),
                    options=[PollOption(label=o, position=i) for i, o in enumerate(OPTIONS)])
        db.session.add(poll)
        db.session.commit()
        result = event.join_code, poll.id, [o.id for o in poll.options]
        db.engine.dispose()
    return result


def count_votes(pg_url: str, db_name: str, poll_id: int) -> dict[int, int]:
    """Votes in the database per chosen option (a single-choice value is [option id])."""
    import psycopg

    with psycopg.connect(f"{pg_url}/{db_name}") as conn:
        rows = conn.execute(
            "SELECT (value->>0)::int, count(*) FROM votes WHERE poll_id = %s GROUP BY 1",
            (poll_id,)).fetchall()
    return {option: n for option, n in rows}


# Server ---------------------------------------------------------------------------------


def parse_server(spec: str) -> tuple[str, int, int]:
    """``gevent:2`` -> (gevent, 2 workers, 0); ``gthread:2x2300`` -> (gthread, 2, 2300)."""
    kind, _, rest = spec.partition(":")
    workers, _, threads = rest.partition("x")
    if kind not in ("gevent", "gthread") or not workers.isdigit() or (
            kind == "gthread") != threads.isdigit():
        raise argparse.ArgumentTypeError(f"bad server {spec!r}: gevent:N or gthread:NxT")
    return kind, int(workers), int(threads or 0)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _server_limits() -> None:  # preexec_fn: runs in the child before gunicorn starts
    raise_nofile()


class Server:
    def __init__(self, spec: str, db_url: str, redis_url: str, instance: Path, phones: int):
        kind, workers, threads = parse_server(spec)
        self.spec, self.workers = spec, workers
        self.port = free_port()
        gunicorn = Path(sys.executable).parent / "gunicorn"
        # Connections per worker: every stream may land on one worker, plus the votes.
        connections = 2 * phones + 1000
        cmd = [str(gunicorn), "-k", kind, "-w", str(workers), "-b", f"127.0.0.1:{self.port}",
               "--worker-connections", str(connections), "--backlog", "4096",
               "--keep-alive", "5", "--timeout", "120", "--graceful-timeout", "5",
               "--log-level", "warning"]
        if kind == "gthread":
            cmd += ["--threads", str(threads)]
        cmd.append("wsgi:app")
        env = dict(os.environ, DATABASE_URL=db_url, REDIS_URL=redis_url, SECRET_KEY="bench",
                   RATELIMIT_ENABLED="false", EVENTHUB_INSTANCE=str(instance),
                   MAIL_BACKEND="folder", MAIL_DELIVER_IN_PROCESS="false",
                   PYTHONUNBUFFERED="1")
        env.pop("EVENTHUB_ENV", None)
        self.log = open(instance / f"gunicorn-{secrets.token_hex(3)}.log", "w+b")  # noqa: SIM115
        self.proc = subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, stdout=self.log,
                                     stderr=subprocess.STDOUT, start_new_session=True,
                                     preexec_fn=_server_limits)
        self.command = " ".join([
            "DATABASE_URL=… REDIS_URL=… SECRET_KEY=bench RATELIMIT_ENABLED=false", *cmd])

    def worker_pids(self) -> list[int]:
        try:
            with open(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children") as f:
                return [int(p) for p in f.read().split()]
        except OSError:
            return []

    def wait_ready(self, timeout: float = 60) -> None:
        import urllib.request

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited ({self.proc.returncode}):\n{self.output()}")
            if len(self.worker_pids()) >= self.workers:
                try:
                    with urllib.request.urlopen(
                            f"http://127.0.0.1:{self.port}/healthz", timeout=2) as resp:
                        if resp.status == 200:
                            return
                except OSError:
                    pass
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn not ready after {timeout}s:\n{self.output()}")

    def nofile(self) -> str:
        limits = set()
        for pid in self.worker_pids():
            try:
                with open(f"/proc/{pid}/limits") as f:
                    for line in f:
                        if line.startswith("Max open files"):
                            limits.add(line.split()[3])
            except OSError:
                pass
        return ",".join(sorted(limits))

    def threads(self) -> list[int]:
        out = []
        for pid in self.worker_pids():
            try:
                with open(f"/proc/{pid}/status") as f:
                    out.append(next(int(line.split()[1]) for line in f
                                    if line.startswith("Threads:")))
            except (OSError, StopIteration):
                pass
        return out

    def connections(self) -> list[int]:
        """Established client sockets held by each worker (counted from /proc)."""
        inodes = set()
        for path in ("/proc/net/tcp", "/proc/net/tcp6"):
            try:
                with open(path) as f:
                    for line in list(f)[1:]:
                        parts = line.split()
                        local_port = int(parts[1].rsplit(":", 1)[1], 16)
                        if local_port == self.port and parts[3] == "01":  # ESTABLISHED
                            inodes.add(parts[9])
            except OSError:
                pass
        out = []
        for pid in self.worker_pids():
            n = 0
            try:
                for fd in os.listdir(f"/proc/{pid}/fd"):
                    try:
                        link = os.readlink(f"/proc/{pid}/fd/{fd}")
                    except OSError:
                        continue
                    if link.startswith("socket:[") and link[8:-1] in inodes:
                        n += 1
            except OSError:
                pass
            out.append(n)
        return out

    def output(self) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read().decode(errors="replace")[-4000:]

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGINT)  # quick shutdown: streams are endless
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()


# CPU accounting -------------------------------------------------------------------------


TICKS = os.sysconf("SC_CLK_TCK")


def cpu_snapshot(server_pid: int, client_pids: set[int]) -> dict:
    """CPU seconds used so far, per process (with its group), and by the whole machine."""
    procs: dict[int, tuple[str, float]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        pid = int(entry)
        try:
            with open(f"/proc/{pid}/stat") as f:
                head, _, rest = f.read().rpartition(")")
        except OSError:
            continue
        comm = head.partition("(")[2]
        fields = rest.split()
        ppid, cpu = int(fields[1]), (int(fields[11]) + int(fields[12])) / TICKS
        if pid == server_pid or ppid == server_pid:
            group = "gunicorn"
        elif comm.startswith(("postgres", "postmaster")):
            group = "postgres"
        elif comm.startswith("redis"):
            group = "redis"
        elif pid in client_pids or pid == os.getpid():
            group = "phones"
        else:
            group = "other"
        procs[pid] = (group, cpu, comm)
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal …: "steal" is time the hypervisor
    # gave this virtual machine's cores to someone else.
    return {"procs": procs, "machine": (sum(values[:8]) - values[3] - values[4]) / TICKS,
            "irq": (values[5] + values[6]) / TICKS, "steal": values[7] / TICKS}


def cpu_split(before: dict, after: dict) -> dict[str, float]:
    """CPU seconds per group between two snapshots; a process that ended in between is
    missing from its group and shows up in "other" (the machine's total minus the rest)."""
    split = dict.fromkeys(("gunicorn", "postgres", "redis", "phones"), 0.0)
    others = Counter()
    for pid, (group, cpu, comm) in after["procs"].items():
        old = before["procs"].get(pid)
        used = cpu - (old[1] if old and old[0] == group else 0.0)
        if group in split:
            split[group] += used
        elif used >= 0.1:
            others[f"{comm}[{pid}]"] += used
    split["others"] = others.most_common(3)
    split["machine"] = after["machine"] - before["machine"]
    split["irq"] = after["irq"] - before["irq"]  # kernel network work, e.g. loopback TCP
    split["steal"] = after["steal"] - before["steal"]
    split["other"] = max(split["machine"] - sum(
        split[k] for k in ("gunicorn", "postgres", "redis", "phones", "irq", "steal")), 0.0)
    return split


# Profiling ------------------------------------------------------------------------------


def start_profiles(server: Server, folder: Path, seconds: float, tag: str) -> list:
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    procs = []
    for pid in server.worker_pids():
        out = folder / f"{tag}-worker-{pid}.txt"
        procs.append((out, subprocess.Popen(
            [py_spy, "record", "--pid", str(pid), "--duration", str(max(1, round(seconds))),
             "--rate", "200", "--format", "raw", "--gil", "--nonblocking",
             "--output", str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)))
    return procs


def summarize_profiles(procs: list, top: int = 14) -> list[str]:
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for out, proc in procs:
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
        if not out.exists():
            continue
        for line in out.read_text(errors="replace").splitlines():
            stack, _, n = line.rpartition(" ")
            if not n.isdigit():
                continue
            count = int(n)
            total += count
            frames = [re.sub(r":\d+\)$", ")", f.strip()) for f in stack.split(";")]
            own[frames[-1]] += count
            for frame in set(frames):
                inclusive[frame] += count
    if not total:
        return ["  (py-spy recorded nothing)"]
    lines = [f"  py-spy --gil: {total} samples holding the GIL, all workers",
             "  own time (the function running):"]
    lines += [f"    {100 * c / total:5.1f}%  {f}" for f, c in own.most_common(top)]
    lines.append("  inclusive (below the loop that is in nearly every sample):")
    inner = [(f, c) for f, c in inclusive.most_common() if c < 0.9 * total]
    lines += [f"    {100 * c / total:5.1f}%  {f}" for f, c in inner[:top]]
    return lines


# Parent: orchestration ------------------------------------------------------------------


class ClientProcs:
    """The phone processes; lines of JSON each way."""

    def __init__(self, procs: list[asyncio.subprocess.Process]):
        self.procs = procs

    @classmethod
    async def start(cls, n: int, spec: dict, phones: int) -> ClientProcs:
        procs = []
        for k in range(n):
            proc = await asyncio.create_subprocess_exec(
                sys.executable, __file__, "--_client", stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE, limit=64 * 1024 * 1024)
            mine = dict(spec, phones=list(range(k, phones, n)))
            proc.stdin.write((json.dumps(mine) + "\n").encode())
            await proc.stdin.drain()
            procs.append(proc)
        return cls(procs)

    @property
    def pids(self) -> set[int]:
        return {p.pid for p in self.procs}

    async def send(self, message: dict) -> None:
        for proc in self.procs:
            proc.stdin.write((json.dumps(message) + "\n").encode())
            await proc.stdin.drain()

    async def expect(self, event: str, timeout: float, **match) -> list[dict | None]:
        """The next message ``event`` from every process (None where it did not come)."""
        async def one(proc):
            while True:
                line = await proc.stdout.readline()
                if not line:
                    return None
                msg = json.loads(line)
                if msg.get("event") == event and all(msg.get(k) == v for k, v in match.items()):
                    return msg

        tasks = [asyncio.create_task(one(p)) for p in self.procs]
        done, pending = await asyncio.wait(tasks, timeout=timeout)
        for task in pending:
            task.cancel()
        return [t.result() if t in done else None for t in tasks]

    async def stop(self) -> None:
        for proc in self.procs:
            if proc.returncode is None:
                try:
                    proc.stdin.write(b'{"cmd": "quit"}\n')
                    await proc.stdin.drain()
                    proc.stdin.close()
                except (BrokenPipeError, ConnectionResetError):
                    pass
        for proc in self.procs:
            try:
                await asyncio.wait_for(proc.wait(), 20)
            except TimeoutError:
                proc.kill()
                await proc.wait()


async def closed_loop(base: str, count: int, concurrency: int, make_request,
                      offset: int = 0) -> dict:
    """``count`` requests over ``concurrency`` keep-alive connections, back to back;
    request numbers ``offset`` … ``offset + count - 1``."""
    import aiohttp

    latencies: list[float] = []
    errors: list[str] = []
    jobs = iter(range(offset, offset + count))
    connector = aiohttp.TCPConnector(limit=concurrency, keepalive_timeout=3.0)
    async with aiohttp.ClientSession(base, connector=connector,
                                     cookie_jar=aiohttp.DummyCookieJar(),
                                     timeout=aiohttp.ClientTimeout(total=120)) as http:
        async def lane():
            for i in jobs:
                start = time.monotonic()
                try:
                    error = await make_request(http, i)
                except Exception as exc:  # noqa: BLE001 - counted
                    error = f"{type(exc).__name__}: {exc}"
                if error:
                    errors.append(error)
                else:
                    latencies.append(time.monotonic() - start)

        started = time.monotonic()
        await asyncio.gather(*(lane() for _ in range(concurrency)))
        elapsed = time.monotonic() - started
    return {"rate": count / elapsed, "elapsed": elapsed, "errors": errors,
            "latencies": latencies, "count": count}


async def delivered(clients: ClientProcs) -> int:
    """Snapshots the phones have received so far."""
    await clients.send({"cmd": "count"})
    counts = await clients.expect("count", 30)
    if None in counts:
        raise RuntimeError("a phone process did not count")
    return sum(c["snapshots"] for c in counts)


async def fanout_cost(redis_url: str, server: Server, clients: ClientProcs, poll_id: int,
                      seconds: float) -> dict:
    """Signal a change every 0.25 s for ``seconds``; gunicorn's CPU per stream update
    (a snapshot the phones received)."""
    import redis

    channel = f"poll:{poll_id}"
    conn = redis.Redis.from_url(redis_url)
    received = await delivered(clients)
    before = cpu_snapshot(server.proc.pid, clients.pids)
    started = time.monotonic()
    signals = 0
    while time.monotonic() - started < seconds:
        conn.publish(channel, "changed")
        signals += 1
        await asyncio.sleep(0.25)
    await asyncio.sleep(1.0)  # the last snapshot goes out
    split = cpu_split(before, cpu_snapshot(server.proc.pid, clients.pids))
    seconds = time.monotonic() - started
    conn.close()
    return {"signals": signals, "seconds": seconds, "updates": await delivered(clients) - received,
            "gunicorn": split["gunicorn"], "phones": split["phones"]}


async def measured(server: Server, clients: ClientProcs, requests: int, phase) -> dict:
    """Run ``phase`` (a closed loop); add the CPU the parts used."""
    before = cpu_snapshot(server.proc.pid, clients.pids)
    result = await phase
    result["cpu"] = cpu_split(before, cpu_snapshot(server.proc.pid, clients.pids))
    return result


def combined(rounds: list[dict]) -> dict:
    """Several closed-loop rounds of one kind as one: rate = requests / time, CPU per
    request over all of them."""
    count = sum(r["count"] for r in rounds)
    elapsed = sum(r["elapsed"] for r in rounds)
    latencies = [x for r in rounds for x in r["latencies"]]
    parts = ("gunicorn", "postgres", "redis", "phones", "irq", "steal", "other")
    return {"rate": count / elapsed, "elapsed": elapsed, "count": count,
            "errors": [e for r in rounds for e in r["errors"]],
            "p50": percentile(latencies, 50), "p99": percentile(latencies, 99),
            "rates": [r["rate"] for r in rounds],
            "cpu_ms": {k: 1000 * sum(r["cpu"][k] for r in rounds) / count for k in parts},
            "other_cores": sum(r["cpu"]["other"] for r in rounds) / elapsed,
            "steal_cores": sum(r["cpu"]["steal"] for r in rounds) / elapsed}


async def run_variant(args, spec: str, db_name: str, instance: Path, index: int) -> dict:
    """Everything once against a fresh gunicorn with setup ``spec`` and a fresh poll."""
    db_uri = sqlalchemy_url(args.pg, db_name)
    code, poll_id, option_ids = create_poll(db_uri, instance, index)
    n, m = args.phones, args.capacity_votes
    result: dict = {"server": spec, "phones": n}
    server = Server(spec, f"{args.pg}/{db_name}", args.redis, instance, n)
    result["command"] = server.command
    clients = None
    try:
        server.wait_ready()
        result["nofile"] = server.nofile()
        print(f"\n[{spec}] gunicorn up on :{server.port}, workers {server.worker_pids()}, "
              f"open-files limit {result['nofile']}", flush=True)
        spec_msg = {"port": server.port, "code": code, "poll_id": poll_id,
                    "option_ids": option_ids, "targets": [n, n + m],
                    "setup_concurrency": args.setup_concurrency, "connect_timeout": 180}
        clients = await ClientProcs.start(args.client_procs, spec_msg, n)
        await phones_ready(server, clients, spec, n, result)
        await asyncio.sleep(1.0)
        await fanout_phase(args, server, clients, poll_id, index, result)
        await asyncio.sleep(0.5)
        finals = await vote_phase(args, server, clients, db_name, poll_id, index, result)
        await asyncio.sleep(0.5)
        cap_finals = await capacity_phase(args, server, clients, code, poll_id, option_ids,
                                          index, result)
        phones = await phone_reports(clients)
    finally:
        if clients is not None:
            await clients.stop()
        server.stop()
    add_verdicts(args, result, db_name, poll_id, option_ids, phones, finals, cap_finals)
    return result


async def phones_ready(server: Server, clients: ClientProcs, spec: str, n: int,
                       result: dict) -> None:
    """Wait until every phone has joined and holds its stream open; note how it went."""
    ready = await clients.expect("ready", 400)
    if None in ready:
        raise RuntimeError("a phone process did not get ready")
    connected = sum(r["connected"] for r in ready)
    result.update(connected=connected, join_failed=sum(r["join_failed"] for r in ready),
                  join_seconds=max(r["join_seconds"] for r in ready),
                  stream_seconds=max(r["stream_seconds"] for r in ready),
                  threads=server.threads(), conns=server.connections(),
                  loop=",".join(sorted({r["loop"] for r in ready})))
    print(f"[{spec}] {n} phones ({result['loop']} loop) joined in "
          f"{result['join_seconds']:.1f} s "
          f"({result['join_failed']} failed), {connected} streams open after "
          f"{result['stream_seconds']:.1f} s; per worker: connections "
          f"{result['conns']}, threads {result['threads']}", flush=True)
    for r in ready:
        if r["join_errors"]:
            print(f"  join errors: {r['join_errors']}")
    if connected < n or result["join_failed"]:
        raise RuntimeError(f"only {connected} of {n} streams connected")


async def fanout_phase(args, server: Server, clients: ClientProcs, poll_id: int, index: int,
                       result: dict) -> None:
    """Fan-out alone: "changed" signals through Redis, no votes: what pushing snapshots
    to the open streams costs the workers."""
    fan_profiles = (start_profiles(server, args.profile, args.fanout_seconds,
                                   f"{index}-fanout") if args.profile else [])
    result["fanout"] = await fanout_cost(args.redis, server, clients, poll_id,
                                         args.fanout_seconds)
    if fan_profiles:
        result["profile_fanout"] = summarize_profiles(fan_profiles)


async def vote_phase(args, server: Server, clients: ClientProcs, db_name: str, poll_id: int,
                     index: int, result: dict) -> list:
    """The vote: open loop over the window; returns each phone process's final tallies."""
    n = args.phones
    t0 = time.monotonic() + 0.3
    await clients.send({"cmd": "vote", "t0": t0, "window": args.window,
                        "seed": args.seed + index})
    await asyncio.sleep(max(0.0, t0 - time.monotonic()))
    cpu0 = cpu_snapshot(server.proc.pid, clients.pids)
    profiles = (start_profiles(server, args.profile, args.window + 3, f"{index}-vote")
                if args.profile else [])
    voted = await clients.expect("voted", args.window + 150)
    if None in voted:
        raise RuntimeError("a phone process did not finish voting")
    finals = await clients.expect("final", args.final_timeout + 5, target=n)
    cpu1 = cpu_snapshot(server.proc.pid, clients.pids)
    result["cpu"] = cpu_split(cpu0, cpu1)
    result["profile"] = summarize_profiles(profiles) if profiles else []
    result["db_after_vote"] = sum(count_votes(args.pg, db_name, poll_id).values())
    return finals


def get_request(path):
    """A closed-loop request: GET ``path``, expect 200."""
    async def request(http, _i):
        async with http.get(path) as resp:
            await resp.read()
            return None if resp.status == 200 else f"GET {path} {resp.status}"
    return request


async def vote_requests(base: str, code: str, poll_id: int, option_ids: list[int], m: int):
    """A closed-loop request for each of ``m`` new voters, ready to send: a session with
    its CSRF token, a signed voter cookie and a vote token each, the form encoded."""
    import aiohttp
    from itsdangerous import Signer

    from eventhub.polls.voters import vote_token

    async with aiohttp.ClientSession(base) as http:
        async with http.get(f"/j/{code}") as resp:
            body = await resp.read()
            session_cookie = resp.cookies["session"].value
    csrf = CSRF_RE.search(body).group(1).decode()
    signer = Signer("bench", salt="poll-voter")
    voter_ids = [secrets.token_urlsafe(16) for _ in range(m)]
    voters = [signer.sign(v).decode() for v in voter_ids]
    # The token each voter's join page would carry (see eventhub/polls/voters.py).
    tokens = [vote_token(v, secret_key="bench") for v in voter_ids]

    # Each body is encoded here, before the clock starts: a phone encodes its own form
    # on its own CPU, and these phones share the server's cores.
    bodies = [urlencode({"csrf_token": csrf,
                         "choice": str(option_ids[i % len(option_ids)])}).encode()
              for i in range(m)]
    form_type = "application/x-www-form-urlencoded"

    async def vote_request(http, i):
        async with http.post(
                f"/j/{code}/polls/{poll_id}/vote", data=bodies[i],
                headers={"Content-Type": form_type, "Accept": "application/json",
                         "Origin": base, "X-Vote-Token": tokens[i],
                         "Cookie": f"session={session_cookie}; eh_voter={voters[i]}"}
        ) as resp:
            body = await resp.read()
            if resp.status != 200 or json.loads(body).get("ok") is not True:
                return f"POST vote {resp.status} {body[:100]!r}"
        return None

    return vote_request


async def capacity_phase(args, server: Server, clients: ClientProcs, code: str, poll_id: int,
                         option_ids: list[int], index: int, result: dict) -> list:
    """Capacity: votes back to back vs the bare endpoint, streams still open; then
    /healthz. Returns each phone process's final tallies after the capacity votes."""
    n, m = args.phones, args.capacity_votes
    base = f"http://127.0.0.1:{server.port}"
    vote_request = await vote_requests(base, code, poll_id, option_ids, m)

    # Votes and the bare endpoint take turns, ``--rounds`` times each, so a change in
    # the machine's speed during the run (it varies) weighs on both alike.
    c, rounds = args.concurrency, max(1, args.rounds)
    await closed_loop(base, 2 * c, c, get_request(BARE_PATH))  # warm
    cap_profiles = (start_profiles(server, args.profile, 4, f"{index}-capacity")
                    if args.profile else [])
    vote_rounds, bare_rounds = [], []
    for k in range(rounds):
        size = m // rounds + (1 if k < m % rounds else 0)
        offset = sum(r["count"] for r in vote_rounds)
        vote_rounds.append(await measured(server, clients, size, closed_loop(
            base, size, c, vote_request, offset)))
        if k == 0 and cap_profiles:
            result["profile_capacity"] = summarize_profiles(cap_profiles)
        # The snapshots that follow the round's last votes go out before the bare
        # round starts, so the bare endpoint does not pay for the votes' fan-out.
        await asyncio.sleep(SETTLE)
        bare_rounds.append(await measured(server, clients, size, closed_loop(
            base, size, c, get_request(BARE_PATH))))
        await asyncio.sleep(SETTLE)
    result["cap_votes"], result["bare"] = combined(vote_rounds), combined(bare_rounds)
    cap_finals = await clients.expect("final", args.final_timeout + 5, target=n + m)
    result["healthz"] = combined([await measured(server, clients, m, closed_loop(
        base, m, c, get_request("/healthz")))])
    return cap_finals


async def phone_reports(clients: ClientProcs) -> list[dict]:
    """Every phone's own account: its vote and what its stream received."""
    await clients.send({"cmd": "report"})
    reports = await clients.expect("report", 60)
    if None in reports:
        raise RuntimeError("a phone process did not report")
    return [p for r in reports for p in r["phones"]]


def add_verdicts(args, result: dict, db_name: str, poll_id: int, option_ids: list[int],
                 phones: list[dict], finals: list, cap_finals: list) -> None:
    """The phones' accounts against the database, and the targets."""
    n, m = args.phones, args.capacity_votes
    votes = [p["vote"] for p in phones]
    ok = [v for v in votes if v and v["done"] and not v["error"]]
    failed = [v for v in votes if not v or not v["done"] or v["error"]]
    first_sent = min(v["sent"] for v in votes if v)
    last_done = max(v["done"] for v in votes if v and v["done"])
    latencies = [v["done"] - v["sent"] for v in ok]
    lags = [v["sent"] - v["at"] for v in votes if v]
    finals_after = [p["final_at"][str(n)] - last_done for p in phones
                    if str(n) in p["final_at"]]
    expected = Counter(p["option"] for p in phones)
    expected_all = expected + Counter(option_ids[i % len(option_ids)] for i in range(m))
    in_db = count_votes(args.pg, db_name, poll_id)
    snapshots_counts = {tuple(p["final_counts"].get(str(n), [])) for p in phones}
    want_counts = tuple(expected[o] for o in option_ids)
    result.update(
        votes_ok=len(ok), votes_failed=len(failed),
        vote_errors=Counter(v["error"] if v else "no vote" for v in failed).most_common(5),
        vote_rate=len(votes) / (last_done - first_sent),
        vote_span=last_done - first_sent,
        p50=percentile(latencies, 50), p99=percentile(latencies, 99),
        lat_max=max(latencies, default=float("nan")),
        lag_p99=percentile(lags, 99), lag_max=max(lags),
        final_count=len(finals_after), final_p50=percentile(finals_after, 50),
        final_p99=percentile(finals_after, 99), final_max=max(finals_after, default=math.inf),
        snapshots_mean=sum(p["snapshots"] for p in phones) / len(phones),
        stream_errors=Counter(p["error"] for p in phones if p["error"]).most_common(3),
        finals_ok=all(x is not None for x in finals),
        cap_final_count=sum(str(n + m) in p["final_at"] for p in phones),
        cap_finals_ok=all(x is not None for x in cap_finals),
        db_total=sum(in_db.values()), expected_total=n + m,
        lost=n + m - sum(in_db.values()), lost_vote=n - result["db_after_vote"],
        db_counts_ok=all(in_db.get(o, 0) == expected_all[o] for o in option_ids),
        stream_counts_ok=snapshots_counts == {want_counts},
        stream_counts=sorted(snapshots_counts)[:3], want_counts=want_counts,
        db_counts=[in_db.get(o, 0) for o in option_ids],
        want_db_counts=[expected_all[o] for o in option_ids],
    )
    add_checks(result, n)


def add_checks(result: dict, n: int) -> None:
    """The targets, met or not."""
    result["ratio"] = result["cap_votes"]["rate"] / result["bare"]["rate"]
    result["checks"] = {
        "lost": result["lost"] == 0 and result["lost_vote"] == 0 and result["votes_failed"] == 0
        and result["cap_votes"]["errors"] == [] and result["db_counts_ok"],
        "p99": result["p99"] < TARGET_P99,
        "final": result["final_count"] == n and result["final_max"] <= TARGET_FINAL
        and result["stream_counts_ok"],
        "ratio": result["ratio"] >= TARGET_RATIO,
    }


def ms(x: float) -> str:
    return "—" if x is None or math.isnan(x) else f"{1000 * x:.0f} ms"


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def print_result(r: dict, args) -> None:
    n, m, c = r["phones"], args.capacity_votes, args.concurrency
    ck = r["checks"]
    rows = [
        ("server", r["server"], "", ""),
        ("phones / streams open (phones' event loop)",
         f"{n} / {r['connected']} ({r['loop']})", "", ""),
        (f"votes cast (each phone once, {args.window:g} s window)",
         f"{r['votes_ok']} ok, {r['votes_failed']} failed", "", ""),
        ("votes/s (first POST → last response)",
         f"{r['vote_rate']:.0f} /s over {r['vote_span']:.2f} s", "", ""),
        ("vote latency p50", ms(r["p50"]), "", ""),
        ("vote latency p99 (max)", f"{ms(r['p99'])} ({ms(r['lat_max'])})", "< 300 ms",
         verdict(ck["p99"])),
        ("phones' send lag p99 / max", f"{ms(r['lag_p99'])} / {ms(r['lag_max'])}", "", ""),
        (f"streams with the final tally ({n})", f"{r['final_count']} / {n}", f"{n}",
         verdict(r["final_count"] == n)),
        ("final tally after last vote p50 / p99 / max",
         f"{ms(r['final_p50'])} / {ms(r['final_p99'])} / {ms(r['final_max'])}", "≤ 1000 ms",
         verdict(ck["final"])),
        ("final snapshot counts = votes sent", "yes" if r["stream_counts_ok"] else
         f"no: {r['stream_counts']} ≠ {list(r['want_counts'])}", "", ""),
        ("snapshots per stream (whole run, mean)", f"{r['snapshots_mean']:.1f}", "", ""),
        ("fan-out alone (a change every 0.25 s, no votes)",
         f"{r['fanout']['updates'] / r['fanout']['seconds'] / n:.1f} snapshots/s per phone",
         "", ""),
        ("  gunicorn CPU for them",
         f"{r['fanout']['gunicorn'] / r['fanout']['seconds']:.2f} cores = "
         f"{1e6 * r['fanout']['gunicorn'] / max(r['fanout']['updates'], 1):.0f} µs per "
         "stream update", "", ""),
        ("  the phones reading those updates",
         f"{r['fanout']['phones'] / r['fanout']['seconds']:.2f} cores", "", ""),
        (f"vote capacity ({m} more votes, {c} keep-alive conns)",
         f"{r['cap_votes']['rate']:.0f} /s, p50 {ms(r['cap_votes']['p50'])}, "
         f"{len(r['cap_votes']['errors'])} failed", "", ""),
        (f"bare GET {BARE_PATH} (same way)",
         f"{r['bare']['rate']:.0f} /s, p50 {ms(r['bare']['p50'])}", "", ""),
        ("ratio vote / bare", f"{r['ratio']:.3f}", "≥ 0.50", verdict(ck["ratio"])),
        (f"  per round ({len(r['cap_votes']['rates'])} rounds, taking turns)", ", ".join(
            f"{v / b:.2f}" for v, b in zip(r["cap_votes"]["rates"],
                                           r["bare"]["rates"], strict=True)),
         "", ""),
        ("CPU ms per request: vote / bare / healthz (gunicorn)",
         " / ".join(f"{r[k]['cpu_ms']['gunicorn']:.2f}" for k in ("cap_votes", "bare",
                                                                  "healthz")), "", ""),
        ("CPU ms per vote: postgres / redis / client / other",
         " / ".join(f"{r['cap_votes']['cpu_ms'][k]:.2f}" for k in ("postgres", "redis",
                                                                   "phones", "other")), "", ""),
        ("other processes' CPU during vote / bare capacity",
         f"{r['cap_votes']['other_cores']:.2f} / {r['bare']['other_cores']:.2f} cores", "",
         "" if max(r["cap_votes"]["other_cores"], r["bare"]["other_cores"]) < 0.1
         else "noisy: rerun"),
        ("cores taken by the hypervisor (steal) during vote / bare",
         f"{r['cap_votes']['steal_cores']:.2f} / {r['bare']['steal_cores']:.2f} cores", "",
         "" if max(r["cap_votes"]["steal_cores"], r["bare"]["steal_cores"]) < 0.1
         else "noisy: rerun"),
        ("(GET /healthz, SELECT 1, same way)",
         f"{r['healthz']['rate']:.0f} /s, p50 {ms(r['healthz']['p50'])}; vote / healthz "
         f"{r['cap_votes']['rate'] / r['healthz']['rate']:.2f}", "", ""),
        (f"streams with {n + m} after capacity", f"{r['cap_final_count']} / {n}", "", ""),
        (f"lost votes: {n} − votes in database after the vote", f"{r['lost_vote']}", "0",
         verdict(r["lost_vote"] == 0)),
        ("lost votes, whole run (cast − in database)",
         f"{r['lost']} ({r['db_total']} of {r['expected_total']})", "0",
         verdict(ck["lost"])),
        ("per-option counts in database", "= sent" if r["db_counts_ok"] else
         f"{r['db_counts']} ≠ {r['want_db_counts']}", "", ""),
    ]
    width = max(len(a) for a, *_ in rows)
    vwidth = max(len(b) for _, b, *_ in rows)
    print(f"\nResult: {r['server']}")
    print(f"  {'':{width}}  {'measured':{vwidth}}  {'target':9}")
    for a, b, t, v in rows:
        print(f"  {a:{width}}  {b:{vwidth}}  {t:9}  {v}".rstrip())
    cpu = r["cpu"]
    span = max(cpu["machine"], 1e-9)
    print("  CPU seconds from the vote until every stream was final: " + ", ".join(
        f"{k} {cpu[k]:.1f}" for k in ("gunicorn", "postgres", "redis", "phones", "irq",
                                      "steal", "other"))
        + f" (machine {span:.1f})" + (" ; other: " + ", ".join(
            f"{name} {sec:.1f}" for name, sec in cpu["others"]) if cpu["others"] else ""))
    if r["vote_errors"]:
        print(f"  vote errors: {r['vote_errors']}")
    if r["stream_errors"]:
        print(f"  stream errors: {r['stream_errors']}")
    if r["cap_votes"]["errors"]:
        print(f"  capacity vote errors: {Counter(r['cap_votes']['errors']).most_common(3)}")
    if r.get("profile_fanout"):
        print("  fan-out alone:")
        for line in r["profile_fanout"]:
            print(line)
    if r.get("profile"):
        print("  the vote, until every stream was final:")
        for line in r["profile"]:
            print(line)
    if r.get("profile_capacity"):
        print("  capacity phase:")
        for line in r["profile_capacity"]:
            print(line)
    print(f"  gunicorn: {r['command']}")


# Several polls open, one stream per phone (--polls N) ------------------------------------
#
# The join page holds ONE stream, ``GET /j/<code>/stream``, whatever number of polls is
# open: it carries each open poll's snapshots (coalesced per poll, as a poll's own
# stream) and a "state" message naming the open polls. Here every phone opens that one
# stream, then votes once on each of the N polls at random moments within --window.
# Measured: lost votes (database vs sent), vote latency, when every phone had every
# poll's final tally (from the last vote's response), memory per open stream (the
# workers' resident memory with all streams open minus before, per stream), and the
# capacity ratio against the bare endpoint (closed loop, as the single-poll run).


def create_polls(db_uri: str, instance: Path, index: int, count: int
                 ) -> tuple[str, list[tuple[int, list[int]]]]:
    """A published event with ``count`` open single-choice polls (results always shown):
    (join code, [(poll id, option ids)])."""
    from datetime import UTC, datetime, timedelta

    from eventhub.db import utcnow
    from eventhub.events.models import Event
    from eventhub.extensions import db
    from eventhub.polls.models import Poll, PollOption

    app = make_app(db_uri, instance)
    start = datetime.now(UTC).replace(microsecond=0)
    with app.app_context():
        event = Event(slug=f"flere-afstemninger-{index}", title="Del & Genbrug – session",
                      venue="Odense Congress Center", starts_at=start,
                      ends_at=start + timedelta(hours=8), status="published")
        db.session.add(event)
        db.session.flush()
        polls = [Poll(event_id=event.id, question=f"Spørgsmål {k + 1}", kind="single",
                      status="open", audience="anyone", results_mode="always",
                      opened_at=utcnow(), position=k,
                      options=[PollOption(label=o, position=i) for i, o in enumerate(OPTIONS)])
                 for k in range(count)]
        db.session.add_all(polls)
        db.session.commit()
        result = event.join_code, [(p.id, [o.id for o in p.options]) for p in polls]
        db.engine.dispose()
    return result


POLL_RE = re.compile(rb'"poll":\s*(\d+)')


class PageStreamReader(asyncio.Protocol):
    """One phone's one stream: notes, per poll, when a snapshot with ``target`` voters
    first arrived (the JSON is not parsed; its poll and voters are read with regexes)."""

    def __init__(self, request: bytes, polls: set[int], target: int,
                 loop: asyncio.AbstractEventLoop) -> None:
        self.request, self.polls, self.target = request, polls, target
        self.seen: set[int] = set()
        self.final_at: dict[int, float] = {}
        self.ready: asyncio.Future = loop.create_future()  # a snapshot of every poll
        self.buf = b""
        self.headers_done = False
        self.error: str | None = None
        self.status = b""

    def connection_made(self, transport) -> None:
        self.transport = transport
        transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        now = time.monotonic()
        data = self.buf + data
        if not self.headers_done:
            end = data.find(b"\r\n\r\n")
            if end < 0:
                self.buf = data
                return
            self.status = data[:15]
            if not data.startswith(b"HTTP/1.1 200"):
                self.error = data[:40].decode(errors="replace")
                self._done()
                return
            self.headers_done, data = True, data[end + 4:]
        pos = 0
        while (start := data.find(SNAPSHOT_MARK, pos)) >= 0:
            end = data.find(b"\n", start + len(SNAPSHOT_MARK))
            if end < 0:
                break
            line = data[start + len(SNAPSHOT_MARK):end]
            poll, voters = POLL_RE.search(line), VOTERS_RE.search(line)
            if poll and voters:
                poll_id = int(poll.group(1))
                self.seen.add(poll_id)
                if int(voters.group(1)) >= self.target and poll_id not in self.final_at:
                    self.final_at[poll_id] = now
            pos = end + 1
        else:
            start = -1
        self.buf = data[start:] if start >= 0 else data[-(len(SNAPSHOT_MARK) - 1):]
        if self.seen >= self.polls:
            self._done()

    def connection_lost(self, exc) -> None:
        if exc is not None and self.error is None:
            self.error = f"{type(exc).__name__}: {exc}"
        self._done()

    def _done(self) -> None:
        if not self.ready.done():
            self.ready.set_result(None)


def workers_rss(server: Server) -> int:
    """Resident memory of the gunicorn workers, in bytes."""
    total = 0
    for pid in server.worker_pids():
        try:
            with open(f"/proc/{pid}/status") as f:
                total += next(int(line.split()[1]) for line in f
                              if line.startswith("VmRSS:")) * 1024
        except (OSError, StopIteration):
            pass
    return total


async def run_multi(args, db_name: str, instance: Path) -> int:
    """Phones each holding one stream while ``--polls`` polls are open; see above."""
    import aiohttp

    n, count = args.phones, args.polls
    code, polls = create_polls(sqlalchemy_url(args.pg, db_name), instance, 99, count)
    server = Server(args.server, sqlalchemy_url(args.pg, db_name), args.redis, instance, n)
    loop = asyncio.get_running_loop()
    try:
        server.wait_ready()
        base = f"http://127.0.0.1:{server.port}"
        jar = aiohttp.DummyCookieJar()
        connector = aiohttp.TCPConnector(limit=0, keepalive_timeout=3.0)
        async with aiohttp.ClientSession(base, connector=connector, cookie_jar=jar,
                                         timeout=aiohttp.ClientTimeout(total=120)) as http:
            gate = asyncio.Semaphore(args.setup_concurrency)

            async def join(i: int) -> dict:
                async with gate, http.get(f"/j/{code}") as resp:
                    body = await resp.read()
                    cookies = {k: m.value for k, m in resp.cookies.items()}
                return {"cookies": cookie_header(cookies),
                        "csrf": CSRF_RE.search(body).group(1).decode(),
                        "token": VOTE_TOKEN_RE.search(body).group(1).decode()}

            t0 = time.monotonic()
            phones = await asyncio.gather(*(join(i) for i in range(n)))
            joined = time.monotonic() - t0
            await asyncio.sleep(1.0)
            rss_before = workers_rss(server)
            request = (f"GET /j/{code}/stream HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
                       "Accept: text/event-stream\r\n").encode()
            readers = []
            for phone in phones:
                reader = PageStreamReader(
                    request + f"Cookie: {phone['cookies']}\r\n\r\n".encode(),
                    {p for p, _o in polls}, n, loop)
                async with gate:
                    await loop.create_connection(lambda r=reader: r, "127.0.0.1", server.port)
                readers.append(reader)
            await asyncio.wait_for(asyncio.gather(*(r.ready for r in readers)), 120)
            connected = time.monotonic() - t0 - joined
            await asyncio.sleep(1.0)
            rss_after = workers_rss(server)
            stream_errors = [r.error for r in readers if r.error]
            print(f"[multi] {n} phones joined in {joined:.1f} s; {n - len(stream_errors)} "
                  f"streams with every poll's snapshot in {connected:.1f} s; "
                  f"{server.connections()} connections per worker", flush=True)

            # The vote: every phone on every poll, at random moments within the window.
            rng = random.Random(args.seed)
            latencies: list[float] = []
            errors: list[str] = []
            done_at: list[float] = []
            sent: Counter = Counter()

            async def vote(i: int, poll_id: int, options: list[int], at: float) -> None:
                await asyncio.sleep(max(0.0, at - time.monotonic()))
                phone, option = phones[i], options[i % len(options)]
                body = urlencode({"csrf_token": phone["csrf"], "choice": str(option)})
                start = time.monotonic()
                try:
                    async with http.post(
                            f"/j/{code}/polls/{poll_id}/vote", data=body.encode(),
                            headers={"Content-Type": "application/x-www-form-urlencoded",
                                     "Accept": "application/json", "Origin": base,
                                     "X-Vote-Token": phone["token"],
                                     "Cookie": phone["cookies"]}) as resp:
                        answer = await resp.read()
                        if resp.status == 200 and (b'"ok": true' in answer
                                                   or b'"ok":true' in answer):
                            sent[(poll_id, option)] += 1
                        else:
                            errors.append(f"{resp.status} {answer[:80]!r}")
                except Exception as exc:  # noqa: BLE001 - counted
                    errors.append(f"{type(exc).__name__}: {exc}")
                end = time.monotonic()
                latencies.append(end - start)
                done_at.append(end)

            start = time.monotonic() + 0.5
            jobs = [vote(i, poll_id, options, start + rng.random() * args.window)
                    for i in range(n) for poll_id, options in polls]
            await asyncio.gather(*jobs)
            last_vote = max(done_at)
            deadline = time.monotonic() + args.final_timeout
            while time.monotonic() < deadline and not all(
                    len(r.final_at) == count for r in readers):
                await asyncio.sleep(0.05)
            finals = [t - last_vote for r in readers for t in r.final_at.values()]
            missing = sum(count - len(r.final_at) for r in readers)

            # Capacity, streams still open: votes by new voters vs the bare endpoint.
            c, m = args.concurrency, args.capacity_votes
            poll_id, options = polls[0]
            vote_request = await vote_requests(base, code, poll_id, options, m)
            await closed_loop(base, 2 * c, c, get_request(BARE_PATH))  # warm
            cap = await closed_loop(base, m, c, vote_request)
            await asyncio.sleep(SETTLE)
            bare = await closed_loop(base, m, c, get_request(BARE_PATH))
        for reader in readers:
            reader.transport.close()
    finally:
        server.stop()

    stored = {p: count_votes(args.pg, db_name, p) for p, _o in polls}
    votes_db = sum(sum(v.values()) for v in stored.values()) - len(cap["latencies"])
    lost = n * count - votes_db
    p50, p99 = percentile(latencies, 50), percentile(latencies, 99)
    rate = len(latencies) / (last_vote - start) if latencies else 0.0
    per_stream = (rss_after - rss_before) / max(n, 1)
    ratio = cap["rate"] / bare["rate"] if bare["rate"] else 0.0
    final_max = max(finals) if finals else float("inf")
    checks = {"lost 0": lost == 0 and not errors, "p99 < 300 ms": p99 < TARGET_P99,
              "every final within 1 s": not missing and final_max <= TARGET_FINAL,
              "ratio >= 0.5": ratio >= TARGET_RATIO}
    print(f"\n[multi] {args.server}: {n} phones x {count} polls, one stream each, "
          f"window {args.window:.0f} s")
    print(f"  votes {len(latencies)} ({rate:.0f}/s), errors {len(errors)}, lost {lost}; "
          f"latency p50 {ms(p50)} p99 {ms(p99)}")
    print(f"  every poll's final tally on every phone: max {ms(final_max)} after the last "
          f"vote (missing {missing})")
    print(f"  memory per open stream: {per_stream / 1024:.1f} KiB "
          f"(workers {rss_before / 2**20:.0f} MiB -> {rss_after / 2**20:.0f} MiB)")
    print(f"  capacity: votes {cap['rate']:.0f}/s, bare {bare['rate']:.0f}/s, "
          f"ratio {ratio:.2f}")
    if errors:
        print(f"  vote errors: {Counter(errors).most_common(3)}")
    if stream_errors:
        print(f"  stream errors: {Counter(stream_errors).most_common(3)}")
    print("  targets: " + ", ".join(f"{k} {'met' if v else 'MISSED'}"
                                    for k, v in checks.items()))
    return 0 if all(checks.values()) else 1


def print_comparison(results: list[dict]) -> None:
    print("\nComparison")
    head = (f"  {'server':16} {'votes/s':>8} {'p50':>7} {'p99':>7} {'final max':>10} "
            f"{'lost':>5} {'cap/s':>7} {'bare/s':>7} {'ratio':>6}  targets")
    print(head)
    for r in results:
        if "error" in r:
            print(f"  {r['server']:16} failed: {r['error']}")
            continue
        missed = [k for k, v in r["checks"].items() if not v]
        print(f"  {r['server']:16} {r['vote_rate']:8.0f} {ms(r['p50']):>7} {ms(r['p99']):>7} "
              f"{ms(r['final_max']):>10} {r['lost']:5d} {r['cap_votes']['rate']:7.0f} "
              f"{r['bare']['rate']:7.0f} {r['ratio']:6.2f}  "
              f"{'all met' if not missed else 'missed: ' + ', '.join(missed)}")


async def main_async(args, db_name: str, instance: Path) -> int:
    results = []
    for index, spec in enumerate(args.variants or [args.server]):
        try:
            result = await run_variant(args, spec, db_name, instance, index)
            print_result(result, args)
        except Exception as exc:  # noqa: BLE001 - a setup that fails is reported, not fatal
            result = {"server": spec, "error": f"{type(exc).__name__}: {exc}"}
            print(f"\n[{spec}] failed: {result['error']}", flush=True)
        results.append(result)
    if len(results) > 1:
        print_comparison(results)
    first = results[0]
    return 0 if "checks" in first and all(first["checks"].values()) else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--phones", type=int, default=2000)
    parser.add_argument("--window", type=float, default=5.0,
                        help="seconds over which the phones cast their votes")
    parser.add_argument("--server", default=DEFAULT_SERVER, type=lambda s: parse_server(s)
                        and s, help="gevent:N or gthread:NxT (default %(default)s)")
    parser.add_argument("--variants", type=lambda s: [parse_server(v) and v
                                                      for v in s.split(",")])
    parser.add_argument("--client-procs", type=int, default=2)
    parser.add_argument("--capacity-votes", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=4,
                        help="capacity: votes and the bare endpoint take turns this often")
    parser.add_argument("--concurrency", type=int, default=32,
                        help="connections for the capacity and bare-endpoint phases")
    parser.add_argument("--setup-concurrency", type=int, default=64)
    parser.add_argument("--final-timeout", type=float, default=10.0)
    parser.add_argument("--fanout-seconds", type=float, default=4.0,
                        help="how long to measure the cost of pushing snapshots alone")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--profile", type=Path, metavar="DIR")
    parser.add_argument("--polls", type=int, default=1,
                        help="more than 1: that many polls open, each phone holding one "
                             "stream for all of them (the join page's) and voting on each")
    args = parser.parse_args()
    if args.phones % args.client_procs:
        parser.error("--phones must divide evenly over --client-procs")
    try:
        import aiohttp  # noqa: F401
    except ImportError:
        print("bench_polls needs aiohttp: /work/venv/bin/pip install aiohttp", file=sys.stderr)
        return 2
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
    print(f"open-files limit here {raise_nofile()}; {os.cpu_count()} CPUs; "
          f"{args.phones} phones in {args.client_procs} processes", flush=True)
    instance = Path(tempfile.mkdtemp(prefix="eventhub-bench-polls-"))
    db_name = create_database(args.pg)
    try:
        migrate(sqlalchemy_url(args.pg, db_name), instance)
        print(f"database {db_name} migrated", flush=True)
        if args.polls > 1:
            return asyncio.run(run_multi(args, db_name, instance))
        return asyncio.run(main_async(args, db_name, instance))
    finally:
        drop_database(args.pg, db_name)
        shutil.rmtree(instance, ignore_errors=True)


if __name__ == "__main__":
    if sys.argv[1:] == ["--_client"]:
        client_main()
    else:
        sys.exit(main())
