"""Load test: an event day through nginx, one instance and then two, with a fault.

Not a pytest test. Run it from the repository (locust comes with ``pip install -e '.[load]'``;
the ``flock`` keeps benchmarks from overlapping on a shared machine):

    flock /tmp/bench.lock /work/venv/bin/python tests/perf/bench_eventday.py \\
        [--phones 3000] [--registrants 30] [--browsers 30] [--window 10]

For each setup ("1 instance", then "2 instances") it starts, all on this machine:
a throwaway PostgreSQL database (``--pg``, dropped at the end), a throwaway Redis on a
free port, gunicorn instances with the repository's ``deploy/gunicorn.conf.py``
(``WEB_CONCURRENCY`` workers each, default 2) and Debian's nginx with
``deploy/nginx.conf`` in front (the same helpers as tests/test_production_nginx.py).
Each setup gets a fresh event (capacity 300) with a programme and one open poll.

Locust (as a library, gevent, one process) then plays:

* ``--phones`` phones: ``GET /j/<code>`` (voter cookie, vote token), then a result
  stream ``GET /j/<code>/polls/<id>/stream`` held open through nginx. When every stream
  has its first snapshot, the rush starts and each phone votes once at a random moment
  within ``--window`` seconds, as poll.js does (``X-Vote-Token``, ``Accept: application/
  json``). A vote that fails (5xx, connection error) is retried after 0.5 s until it is
  answered; an answer "already voted" after a retry counts as delivered. A stream that
  drops is reopened after 3 s (the ``retry:`` the server sends) and must show the
  current tally.
* ``--registrants`` people registering as fast as they can during the rush (GET the
  form, POST it; unique emails): a registration rush against a capacity of 300.
* ``--browsers`` people browsing the programme (event page, programme, a session page,
  the stylesheet from nginx), 0.5–1.5 s between pages.

In the two-instance setup one instance is killed (SIGKILL to its process group) in the
middle of the vote window: its phones' streams drop and reconnect through nginx to the
other; its votes in flight fail and are retried there.

Reported per setup: requests/s, p50/p99 and failures by kind during the rush, stream
connects and reconnects, and the votes checked phone by phone against the database (each
phone's voter key is in its signed cookie): lost (answered "ok" but not stored), wrong
(stored with another option than the phone chose), unknown (stored for no phone), and
never answered (the phone was still retrying when the bench stopped waiting, stored or
not). The final tally is the database's per-option counts once every phone has its
answer; "final tally after last vote" is, per stream, the time from the last vote's
answer until the stream received a snapshot with exactly those counts (a stream that
had them before the last answer arrived counts 0, and the number of such streams is
printed). CPU seconds during the rush are split into the app instances, nginx,
PostgreSQL, Redis, the bench itself (locust) and "other" (everything else on the
machine: other people's work), with the load average at the start. Rate limits are off
(all phones share 127.0.0.1).
"""

from __future__ import annotations

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import resource  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402
from pathlib import Path  # noqa: E402

import gevent  # noqa: E402
from gevent.event import Event as GEvent  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from locust import FastHttpUser, between, constant, events, task  # noqa: E402
from locust.env import Environment  # noqa: E402

from tests.support.bench import create_database, drop_database, sqlalchemy_url  # noqa: E402
from tests.support.production import AppProcess, Nginx, RedisServer, free_port  # noqa: E402

CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
TOKEN_RE = re.compile(r'data-vote-token="([^"]*)"')
COUNT_RE = re.compile(rb'"count":\s*(\d+)')
OPTIONS = ("Ejerskab", "Tid", "Budget", "Kompetencer")
CAPACITY = 300


class Run:
    """What the users share within one setup."""

    def __init__(self, port: int, code: str, poll_id: int, options: list[int], slug: str,
                 session_id: int, phones: int):
        self.port, self.code, self.poll_id, self.options = port, code, poll_id, options
        self.slug, self.session_id, self.phones = slug, session_id, phones
        self.connected = 0
        self.all_connected = GEvent()
        self.rush = GEvent()
        self.rush_over = GEvent()
        self.vote_t0 = 0.0
        self.window = 10.0
        self.voted = 0
        self.last_vote_done = 0.0
        self.all_voted = GEvent()
        self.phone_list: list[Phone] = []
        self.drops = 0
        self.reconnects: list[float] = []  # seconds from drop to a snapshot again
        self.vote_retries = 0
        self.vote_errors: dict[str, int] = {}
        self.registered = 0
        self.seq = 0
        self.greenlets: list = []


RUN: Run | None = None


def fire(name: str, started: float, exc: Exception | None = None, kind: str = "SSE") -> None:
    events.request.fire(request_type=kind, name=name,
                        response_time=(time.perf_counter() - started) * 1000,
                        response_length=0, exception=exc, context={})


class StreamState:
    """One phone's stream across reconnects."""

    def __init__(self) -> None:
        self.first = True  # no snapshot received yet on any connection
        self.dropped_at: float | None = None  # when the stream last dropped, until a snapshot
        self.got_snapshot = False  # on the current connection


def snapshot_blocks(sock: socket.socket):
    """The snapshot events of a result stream as they arrive; ConnectionError when the
    stream closes or the answer is not 200."""
    buf, head = b"", None
    while True:
        data = sock.recv(65536)
        if not data:
            raise ConnectionError("stream closed")
        buf += data
        if head is None:
            if b"\r\n\r\n" not in buf:
                continue
            head, buf = buf.split(b"\r\n\r\n", 1)
            if b" 200 " not in head.split(b"\r\n", 1)[0]:
                raise ConnectionError(head.split(b"\r\n", 1)[0].decode())
        while b"\n\n" in buf:
            block, buf = buf.split(b"\n\n", 1)
            if b"event: snapshot" in block:
                yield block


def close_quietly(sock: socket.socket | None) -> None:
    if sock is None:
        return
    try:
        sock.close()
    except Exception:  # noqa: BLE001
        pass


class Phone(FastHttpUser):
    fixed_count = 0
    wait_time = constant(3600)

    def on_start(self) -> None:
        run = RUN
        self.run = run
        self.index = run.seq = run.seq + 1
        self.option = run.options[self.index % len(run.options)]
        self.vote_token = self.csrf = ""
        self.voter_key: str | None = None  # "a:<id>", the id as signed in the cookie
        self.answered = False  # the vote was answered "ok" (or "already voted" on a retry)
        self.counts: tuple[int, ...] = ()  # per-option counts of the latest snapshot
        self.counts_at = 0.0  # when this stream first received those counts
        run.phone_list.append(self)
        for _ in range(5):
            with self.client.get(f"/j/{run.code}", name="join", catch_response=True) as resp:
                if resp.status_code == 200:
                    page = resp.text
                    self.csrf = CSRF_RE.search(page).group(1)
                    token = TOKEN_RE.search(page)
                    self.vote_token = token.group(1) if token else ""
                    resp.success()
                    break
                resp.failure(f"join {resp.status_code}")
            gevent.sleep(1)
        for cookie in self.client.cookiejar:
            if cookie.name == "eh_voter":
                self.voter_key = "a:" + cookie.value.rsplit(".", 1)[0]
        run.greenlets.append(gevent.spawn(self.hold_stream))

    def cookies(self) -> str:
        return "; ".join(f"{c.name}={c.value}" for c in self.client.cookiejar)

    def hold_stream(self) -> None:
        """Hold the result stream open; reopen it 3 s after a drop, as EventSource does."""
        run, state = self.run, StreamState()
        while True:
            started = time.perf_counter()
            state.got_snapshot = False
            sock = None
            try:
                sock = self.open_stream()
                for block in snapshot_blocks(sock):
                    self.on_snapshot(state, block, started)
            except Exception as exc:  # noqa: BLE001 - counted, then reconnect like EventSource
                if not state.got_snapshot:
                    fire("stream reconnect" if not state.first else "stream connect", started,
                         exc)
                run.drops += 1
                state.dropped_at = state.dropped_at or time.perf_counter()
                close_quietly(sock)
                if run.rush_over.is_set():
                    return
                gevent.sleep(3.0 + random.random())

    def open_stream(self) -> socket.socket:
        """Connect and ask for the poll's result stream (plain HTTP/1.0 through nginx)."""
        run = self.run
        sock = socket.create_connection(("127.0.0.1", run.port), timeout=120)
        sock.sendall((f"GET /j/{run.code}/polls/{run.poll_id}/stream HTTP/1.0\r\n"
                      f"Host: 127.0.0.1:{run.port}\r\nAccept: text/event-stream\r\n"
                      f"Cookie: {self.cookies()}\r\n\r\n").encode())
        return sock

    def on_snapshot(self, state: StreamState, block: bytes, started: float) -> None:
        """Count the (re)connect at a connection's first snapshot; note new counts."""
        run = self.run
        if not state.got_snapshot:
            state.got_snapshot = True
            fire("stream connect" if state.first else "stream reconnect", started)
            if state.first:
                state.first = False
                run.connected += 1
                if run.connected >= run.phones:
                    run.all_connected.set()
            if state.dropped_at is not None:
                run.reconnects.append(time.perf_counter() - state.dropped_at)
                state.dropped_at = None
        counts = tuple(int(n) for n in COUNT_RE.findall(block))
        if counts != self.counts:
            self.counts, self.counts_at = counts, time.perf_counter()

    @task
    def vote(self) -> None:
        run = self.run
        run.rush.wait()
        gevent.sleep(max(0.0, run.vote_t0 + random.uniform(0, run.window) - time.perf_counter()))
        headers = {"Accept": "application/json", "Origin": f"http://127.0.0.1:{run.port}",
                   "Referer": f"http://127.0.0.1:{run.port}/j/{run.code}"}
        if self.vote_token:
            headers["X-Vote-Token"] = self.vote_token
        attempt = 0
        while True:
            attempt += 1
            with self.client.post(f"/j/{run.code}/polls/{run.poll_id}/vote", name="vote",
                                  data={"csrf_token": self.csrf, "choice": str(self.option)},
                                  headers=headers, catch_response=True) as resp:
                ok = resp.status_code == 200 and '"ok":true' in resp.text.replace(" ", "")
                duplicate = attempt > 1 and resp.status_code in (200, 409) and not ok
                if ok or duplicate:
                    resp.success()
                    break
                why = f"{resp.status_code} {(resp.text or '')[:60]}"
                run.vote_errors[why] = run.vote_errors.get(why, 0) + 1
                resp.failure(why)
            run.vote_retries += 1
            gevent.sleep(0.5)
        self.answered = True
        run.voted += 1
        run.last_vote_done = max(run.last_vote_done, time.perf_counter())
        if run.voted >= run.phones:
            run.all_voted.set()


class Registrant(FastHttpUser):
    fixed_count = 0
    wait_time = constant(0)

    @task
    def register(self) -> None:
        run = RUN
        run.rush.wait()
        if run.rush_over.is_set():
            gevent.sleep(1)
            return
        with self.client.get(f"/e/{run.slug}/register", name="register form",
                             catch_response=True) as resp:
            if resp.status_code != 200:
                resp.failure(str(resp.status_code))
                return
            csrf = CSRF_RE.search(resp.text).group(1)
        run.seq += 1
        n = run.seq
        with self.client.post(f"/e/{run.slug}/register", name="register", data={
                "csrf_token": csrf, "name": f"Deltager {n}", "email": f"p{n}@kommune.example.dk",
                "organization": "Aarhus Kommune", "organization_kind": "",
                "job_title": "Konsulent"}, allow_redirects=False, catch_response=True) as resp:
            if resp.status_code == 302 and "/r/" in resp.headers.get("Location", ""):
                run.registered += 1
                resp.success()
            else:
                resp.failure(f"{resp.status_code}")


class Browser(FastHttpUser):
    fixed_count = 0
    wait_time = between(0.5, 1.5)

    @task
    def browse(self) -> None:
        run = RUN
        run.rush.wait()
        if run.rush_over.is_set():
            gevent.sleep(1)
            return
        self.client.get(f"/e/{run.slug}", name="event page")
        self.client.get(f"/e/{run.slug}/programme", name="programme")
        self.client.get(f"/e/{run.slug}/programme/{run.session_id}", name="session page")
        self.client.get("/static/css/app.css", name="static (nginx)")


# Setup -----------------------------------------------------------------------------------

def make_app(db_uri: str, instance: Path):
    from eventhub import create_app

    return create_app({"SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": db_uri,
                       "REDIS_URL": None, "MAIL_FOLDER": str(instance / "mail"),
                       "RATELIMIT_ENABLED": False, "LOG_REQUESTS": False})


def prepare(db_uri: str, instance: Path, index: int) -> dict:
    """A published event (capacity 300, open registration) with a programme and a poll."""
    from eventhub.db import utcnow
    from eventhub.events.models import Event
    from eventhub.extensions import db
    from eventhub.polls.models import Poll, PollOption
    from eventhub.programme.models import Room, Session

    app = make_app(db_uri, instance)
    start = datetime.now(UTC).replace(microsecond=0, second=0) + timedelta(days=30)
    with app.app_context():
        event = Event(slug=f"eventday-{index}", title="Del & Genbrug 2026",
                      venue="Odense Congress Center", starts_at=start,
                      ends_at=start + timedelta(hours=8), status="published", capacity=CAPACITY)
        db.session.add(event)
        db.session.flush()
        rooms = [Room(event_id=event.id, name=f"Sal {c}", position=i)
                 for i, c in enumerate("ABC")]
        db.session.add_all(rooms)
        db.session.flush()
        sessions = [Session(event_id=event.id, title=f"Oplæg {i}: genbrug af velfærdsteknologi",
                            description="Hvordan kommunen tog løsningen i brug. " * 5,
                            starts_at=start + timedelta(minutes=45 * i),
                            ends_at=start + timedelta(minutes=45 * i + 40),
                            room_id=rooms[i % 3].id) for i in range(12)]
        db.session.add_all(sessions)
        poll = Poll(event_id=event.id, question="Hvad er den største barriere for genbrug?",
                    kind="single", status="open", audience="anyone", results_visible=True,
                    opened_at=utcnow(),
                    options=[PollOption(label=o, position=i) for i, o in enumerate(OPTIONS)])
        db.session.add(poll)
        db.session.commit()
        out = {"slug": event.slug, "code": event.join_code, "poll_id": poll.id,
               "options": [o.id for o in poll.options], "session_id": sessions[3].id}
        db.engine.dispose()
    return out


def stored_votes(pg: str, name: str, poll_id: int) -> dict[str, int]:
    """voter key -> the option stored for it."""
    import psycopg

    with psycopg.connect(f"{pg}/{name}") as conn:
        return dict(conn.execute("SELECT voter_key, (value->>0)::int FROM votes "
                                 "WHERE poll_id = %s", (poll_id,)).fetchall())


def db_figures(pg: str, name: str, poll_id: int, slug: str) -> tuple[dict[str, int], dict]:
    import psycopg

    votes = stored_votes(pg, name, poll_id)
    with psycopg.connect(f"{pg}/{name}") as conn:
        regs = dict(conn.execute(
            "SELECT r.status, count(*) FROM registrations r JOIN events e ON e.id = r.event_id "
            "WHERE e.slug = %s GROUP BY 1", (slug,)).fetchall())
    return votes, regs


TICKS = os.sysconf("SC_CLK_TCK")
GROUPS = ("app", "nginx", "postgres", "redis", "bench")


def cpu_sample(app_pids: set[int], nginx_pid: int, redis_pid: int) -> dict:
    """CPU seconds so far per process (grouped) and for the whole machine."""
    procs = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                head, _, rest = f.read().rpartition(")")
        except OSError:
            continue
        pid, comm, fields = int(entry), head.partition("(")[2], rest.split()
        ppid, cpu = int(fields[1]), (int(fields[11]) + int(fields[12])) / TICKS
        if pid in app_pids or ppid in app_pids:
            group = "app"
        elif nginx_pid in (pid, ppid):
            group = "nginx"
        elif comm.startswith(("postgres", "postmaster")):
            group = "postgres"  # the shared server: other people's queries count here too
        elif pid == redis_pid:
            group = "redis"
        elif pid == os.getpid():
            group = "bench"
        else:
            group = "other"
        procs[pid] = (group, cpu)
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    return {"procs": procs, "machine": (sum(values) - values[3] - values[4]) / TICKS,
            "irq": (values[5] + values[6]) / TICKS, "at": time.perf_counter()}


def cpu_split(before: dict, after: dict, into: dict[str, float]) -> None:
    """Add the CPU seconds per group between two samples to ``into``; "other" is the
    machine's busy time minus our groups and interrupts (kernel network work)."""
    ours = 0.0
    for pid, (group, cpu) in after["procs"].items():
        old = before["procs"].get(pid)
        used = cpu - (old[1] if old and old[0] == group else 0.0)
        if group in GROUPS:
            into[group] = into.get(group, 0.0) + used
            ours += used
    irq = after["irq"] - before["irq"]
    into["irq"] = into.get("irq", 0.0) + irq
    machine = after["machine"] - before["machine"]
    into["machine"] = into.get("machine", 0.0) + machine
    into["other"] = into.get("other", 0.0) + max(0.0, machine - ours - irq)
    into["seconds"] = into.get("seconds", 0.0) + after["at"] - before["at"]


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(p * len(ordered) + 0.5)) - 1))]


def run_setup(label: str, n_instances: int, args, db_uri: str, pg: str, db_name: str,
              redis_url: str, redis_pid: int, tmp: Path, index: int) -> dict:
    global RUN
    info = prepare(db_uri, tmp, index)
    env = {"DATABASE_URL": db_uri, "REDIS_URL": redis_url, "SECRET_KEY": "bench",
           "EVENTHUB_INSTANCE": str(tmp / "instance"), "MAIL_FOLDER": str(tmp / "mail"),
           "PROXY_HOPS": "1", "RATELIMIT_ENABLED": "false", "LOG_REQUESTS": "false",
           "WEB_CONCURRENCY": str(args.workers), "LOG_LEVEL": "warning",
           "GRACEFUL_TIMEOUT": "2", "WORKER_CONNECTIONS": str(2 * args.phones + 1000)}
    instances = [AppProcess(f"{label[0]}{i}", env, tmp) for i in range(n_instances)]
    for instance in instances:
        instance.start()
    import urllib.request

    for instance in instances:  # let every worker load the app before the clock runs
        for _ in range(6):
            urllib.request.urlopen(f"http://127.0.0.1:{instance.port}/j/{info['code']}",
                                   timeout=60).read()
    nginx = Nginx(tmp / f"nginx-{index}", [i.port for i in instances],
                  connections=4 * args.phones + 2000)
    nginx.start()
    RUN = run = Run(nginx.port, info["code"], info["poll_id"], info["options"], info["slug"],
                    info["session_id"], args.phones)
    run.window = args.window
    Phone.fixed_count, Registrant.fixed_count = args.phones, args.registrants
    Browser.fixed_count = args.browsers
    environment = Environment(user_classes=[Phone, Registrant, Browser], events=events,
                              host=nginx.base)
    runner = environment.create_local_runner()
    started = time.perf_counter()
    runner.start(args.phones + args.registrants + args.browsers, spawn_rate=args.spawn_rate)
    run.all_connected.wait(timeout=180)
    setup_seconds = time.perf_counter() - started
    setup_stats = {name: (e.num_requests, e.num_failures, e.get_response_time_percentile(0.5),
                          e.get_response_time_percentile(0.99))
                   for (name, _m), e in environment.stats.entries.items()}
    gevent.sleep(2)
    environment.stats.reset_all()
    run.vote_t0 = time.perf_counter() + 0.5
    rush_started = time.perf_counter()
    app_pids = {i.proc.pid for i in instances}
    sample = lambda: cpu_sample(app_pids, nginx.proc.pid, redis_pid)  # noqa: E731
    cpu: dict[str, float] = {}
    load = os.getloadavg()
    cpu_before = sample()
    run.rush.set()
    killed_at = None
    if n_instances > 1:
        def kill() -> None:
            nonlocal killed_at, cpu_before
            gevent.sleep(max(0.0, run.vote_t0 + run.window / 2 - time.perf_counter()))
            now = sample()  # the killed instance's CPU so far, before its processes go
            cpu_split(cpu_before, now, cpu)
            cpu_before = now
            killed_at = time.perf_counter()
            os.killpg(instances[-1].proc.pid, signal.SIGKILL)
        gevent.spawn(kill)
    run.all_voted.wait(timeout=args.window + 180)
    # The final tally: the database's counts once every phone has its answer (or the
    # bench stopped waiting); then every stream must receive a snapshot with them.
    deadline = time.perf_counter() + 30
    while True:
        stored = stored_votes(pg, db_name, info["poll_id"])
        final = tuple(sum(1 for o in stored.values() if o == option)
                      for option in info["options"])
        if all(p.counts == final for p in run.phone_list) or time.perf_counter() > deadline:
            break
        gevent.sleep(0.5)
    run.rush_over.set()
    rush_seconds = time.perf_counter() - rush_started
    cpu_split(cpu_before, sample(), cpu)
    stats = {name: (e.num_requests, e.num_failures, e.get_response_time_percentile(0.5),
                    e.get_response_time_percentile(0.99))
             for (name, _m), e in environment.stats.entries.items()}
    runner.quit()
    gevent.killall(run.greenlets, block=False)
    votes, regs = db_figures(pg, db_name, info["poll_id"], info["slug"])
    nginx.stop()
    for instance in instances:
        instance.stop()
    final = tuple(sum(1 for o in votes.values() if o == option) for option in info["options"])
    phones = run.phone_list
    keys = {p.voter_key for p in phones if p.voter_key}
    after = [p.counts_at - run.last_vote_done for p in phones if p.counts == final]
    return {"label": label, "setup": setup_stats, "setup_seconds": setup_seconds,
            "stats": stats, "rush_seconds": rush_seconds, "regs": regs, "run": run,
            "stored": len(votes),
            "lost": sum(p.answered and p.voter_key not in votes for p in phones),
            "wrong": sum(p.voter_key in votes and votes[p.voter_key] != p.option
                         for p in phones),
            "unknown": sum(key not in keys for key in votes),
            "unanswered": sum(not p.answered for p in phones),
            "unanswered_stored": sum(not p.answered and p.voter_key in votes
                                     for p in phones),
            "final": final, "finals": [max(0.0, a) for a in after],
            "clamped": sum(a < 0 for a in after), "cpu": cpu, "load": load,
            "killed": None if killed_at is None else killed_at - run.vote_t0,
            "vote_seconds": run.last_vote_done - run.vote_t0 if run.voted else float("nan")}


def report(results: list[dict], args) -> bool:
    print()
    print(f"Event day through nginx: {args.phones} phones holding result streams and voting "
          f"within {args.window:.0f} s, {args.registrants} registrants, {args.browsers} "
          f"programme browsers; gunicorn gevent:{args.workers} per instance, PostgreSQL, Redis, "
          "all on this 2-core machine")
    labels = [r["label"] for r in results]
    print(f"{'':34}" + "".join(f"{label:>30}" for label in labels))

    def row(title: str, cells: list[str]) -> None:
        print(f"  {title:32}" + "".join(f"{c:>30}" for c in cells))

    row("phones connected (setup s)", [f"{r['run'].connected} ({r['setup_seconds']:.0f} s)"
                                       for r in results])
    for name in ("join", "stream connect"):
        row(f"{name} p50 / p99 ms", [
            "{:.0f} / {:.0f}".format(*r["setup"].get(name, (0, 0, 0, 0))[2:]) for r in results])
    row("rush duration", [f"{r['rush_seconds']:.1f} s" for r in results])
    kinds = ["vote", "register form", "register", "event page", "programme", "session page",
             "static (nginx)", "stream reconnect"]
    for kind in kinds:
        cells = []
        for r in results:
            n, fails, p50, p99 = r["stats"].get(kind, (0, 0, 0, 0))
            cells.append(f"{n / r['rush_seconds']:.0f}/s {p50:.0f}/{p99:.0f} ms e{fails}"
                         if n else "–")
        row(f"{kind} (req/s p50/p99 errors)", cells)
    ok = True
    for r in results:
        r["counts_ok"] = r["lost"] == r["wrong"] == r["unknown"] == 0
        ok &= (r["counts_ok"] and r["unanswered"] == 0 and r["stored"] == args.phones
               and len(r["finals"]) == args.phones)
    row("votes stored / phones", [f"{r['stored']} / {args.phones}" for r in results])
    row("lost (answered ok, not stored)", [f"{r['lost']}" for r in results])
    row("stored with another option", [f"{r['wrong']}" for r in results])
    row("stored for no phone", [f"{r['unknown']}" for r in results])
    row("never answered (of them stored)", [
        f"{r['unanswered']} ({r['unanswered_stored']})" for r in results])
    row("vote retries (errors seen)", [f"{r['run'].vote_retries}" for r in results])
    row("votes: first to last answer", [f"{r['vote_seconds']:.1f} s" for r in results])
    row("final tally (database)", ["/".join(map(str, r["final"])) for r in results])
    row("streams with the final tally", [f"{len(r['finals'])} / {args.phones}" for r in results])
    row("final tally after last vote", [
        f"p50 {pct(r['finals'], .5) * 1000:.0f} p99 {pct(r['finals'], .99) * 1000:.0f} "
        f"max {max(r['finals'] or [float('nan')]) * 1000:.0f} ms" for r in results])
    row("  of them before the last answer", [
        f"{r['clamped']} (counted 0)" for r in results])
    row("instance killed at", ["–" if r["killed"] is None else
                               f"vote window + {r['killed']:.1f} s" for r in results])
    row("streams dropped / reconnected", [
        f"{r['run'].drops} / {len(r['run'].reconnects)}" for r in results])
    row("reconnect p50 / max (3 s retry)", [
        f"{pct(r['run'].reconnects, .5):.1f} / {max(r['run'].reconnects or [0]):.1f} s"
        for r in results])
    row("registrations confirmed/waitlist", [
        f"{r['regs'].get('confirmed', 0)} / {r['regs'].get('waitlisted', 0)}"
        for r in results])
    for r in results:
        c = r["cpu"]
        print(f"  {r['label']} CPU s in the rush ({c['seconds']:.0f} s, load average at start "
              f"{r['load'][0]:.1f}): app {c.get('app', 0):.0f}, nginx {c.get('nginx', 0):.0f}, "
              f"PostgreSQL {c.get('postgres', 0):.0f}, Redis {c.get('redis', 0):.0f}, bench "
              f"(locust) {c.get('bench', 0):.0f}, interrupts {c.get('irq', 0):.0f}, other "
              f"CPU {c.get('other', 0):.0f} ({c.get('other', 0) / max(c['seconds'], 1e-9):.2f} "
              "cores)")
    for r in results:
        if r["run"].vote_errors:
            top = sorted(r["run"].vote_errors.items(), key=lambda kv: -kv[1])[:4]
            print(f"  {r['label']} vote errors (retried): " +
                  "; ".join(f"{k!r} ×{v}" for k, v in top))
    print(f"  all votes kept and every stream final: {'yes' if ok else 'NO'}")
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--phones", type=int, default=3000)
    parser.add_argument("--registrants", type=int, default=30)
    parser.add_argument("--browsers", type=int, default=30)
    parser.add_argument("--window", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=2, help="gevent workers per instance")
    parser.add_argument("--spawn-rate", type=float, default=40,
                        help="phones joining per second")
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--only", choices=("1", "2"), help="run one setup only")
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 200000), hard))
    import logging

    logging.getLogger("locust").setLevel(logging.WARNING)
    tmp = Path(tempfile.mkdtemp(prefix="eventday-"))
    db_name = create_database(args.pg, "eventhub_eventday")
    db_uri = sqlalchemy_url(args.pg, db_name)
    redis = RedisServer(free_port())
    redis.start()
    try:
        from flask_migrate import upgrade

        from eventhub.extensions import db

        app = make_app(db_uri, tmp)
        with app.app_context():
            upgrade()
            db.engine.dispose()
        setups = [("1 instance", 1), ("2 instances, 1 killed", 2)]
        if args.only:
            setups = [setups[int(args.only) - 1]]
        results = [run_setup(label, n, args, db_uri, args.pg, db_name,
                             f"redis://127.0.0.1:{redis.port}/0", redis.proc.pid, tmp, i)
                   for i, (label, n) in enumerate(setups)]
        ok = report(results, args)
    finally:
        redis.stop()
        drop_database(args.pg, db_name)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
