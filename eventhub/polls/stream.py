"""Result streams: full snapshots, coalesced, whatever the vote rate.

A vote publishes "changed" on ``poll:<id>`` (through Redis when configured, so every
instance hears it). Each process keeps one ``PollHub``: it marks watched polls dirty on a
signal, and a single ticker thread recomputes each dirty poll's snapshot at most once
per ``interval`` (0.25 s). Every open stream just waits for a newer snapshot and sends it
whole, so a reconnecting phone simply gets the current state.

Two audiences, each with its own pace: staff streams (the presenter's projector, the
moderation page) get every snapshot, up to four a second; phones get the public view at
most every ``public_interval`` (0.5 s), and never a snapshot older than a vote that
is waiting to be counted. A room of 2000 phones then costs half the writes, CPU that
the votes themselves need, while the projector stays as lively as before; a phone
still has the final tally about half a second after the last vote.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import Counter
from collections.abc import Iterator

from flask import Flask, current_app

from eventhub.extensions import db
from eventhub.polls.tally import public_view, snapshot

log = logging.getLogger(__name__)
HEARTBEAT_SECONDS = 15
RETRY_MS = 3000
FULL, PUBLIC = "full", "public"


class _Channel:
    """One poll's snapshots for one audience. Streams wait on ``published``, an Event
    that is set once and replaced: setting an Event wakes its waiters far more cheaply
    than a Condition (gevent patches it, too), and a vote's signal wakes only the ticker,
    never the thousands of streams (waking them all on every vote, to find no new
    snapshot, cost more CPU than the votes themselves)."""

    __slots__ = ("interval", "published", "current", "pending", "sent_at")

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.published = threading.Event()
        # (version, SSE message): each message is encoded once here, and every stream
        # writes the same bytes.
        self.current: tuple[int, bytes] | None = None
        self.pending: str | None = None  # computed, waiting for this audience's pace
        self.sent_at = -interval

    def due(self) -> float | None:
        """When the pending snapshot may go out (None: nothing pending)."""
        return None if self.pending is None else self.sent_at + self.interval

    def release(self, now: float) -> threading.Event:
        """Publish the pending snapshot; returns the Event to set (outside the lock)."""
        version = self.current[0] + 1 if self.current else 1
        self.current = (version, _message(version, self.pending))
        self.pending, self.sent_at = None, now
        return self.beat()

    def beat(self) -> threading.Event:
        fired, self.published = self.published, threading.Event()
        return fired


class PollHub:
    def __init__(self, app: Flask, interval: float = 0.25,
                 public_interval: float = 0.5) -> None:
        self.app = app
        self.interval = interval
        self.public_interval = public_interval
        self.lock = threading.Lock()
        self.signalled = threading.Condition(self.lock)
        self.watchers: Counter[int] = Counter()
        self.dirty: set[int] = set()
        self.channels: dict[int, dict[str, _Channel]] = {}
        self.failing: set[int] = set()  # polls whose last snapshot failed
        self._thread: threading.Thread | None = None

    # Streams ------------------------------------------------------------------------

    def watch(self, poll_id: int) -> None:
        from eventhub.realtime import InProcessBroker

        broker: InProcessBroker = self.app.extensions["eventhub_broker"]
        # (Un)subscribing under the hub's lock: a last stream leaving while a first one
        # arrives must not leave the poll unsubscribed. It cannot deadlock: the broker
        # calls listeners (``on_message``) after releasing its own lock.
        with self.lock:
            self.watchers[poll_id] += 1
            first = self.watchers[poll_id] == 1
            if first:
                self.channels[poll_id] = {FULL: _Channel(self.interval),
                                          PUBLIC: _Channel(self.public_interval)}
                # Subscribed before the first snapshot is read, so no vote falls between.
                broker.subscribe(f"poll:{poll_id}", self.on_message)
            if first or self.channels[poll_id][FULL].current is None:
                self.dirty.add(poll_id)
                self.signalled.notify()
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="poll-hub",
                                                daemon=True)
                self._thread.start()

    def unwatch(self, poll_id: int) -> None:
        broker = self.app.extensions["eventhub_broker"]
        with self.lock:
            self.watchers[poll_id] -= 1
            if self.watchers[poll_id] <= 0:
                del self.watchers[poll_id]
                self.channels.pop(poll_id, None)
                self.dirty.discard(poll_id)
                broker.unsubscribe(f"poll:{poll_id}", self.on_message)

    def on_message(self, channel: str, message: str) -> None:
        poll_id = int(channel.rsplit(":", 1)[1])
        with self.lock:
            if poll_id in self.watchers and poll_id not in self.dirty:
                self.dirty.add(poll_id)
                self.signalled.notify()

    def wait(self, poll_id: int, audience: str, after_version: int) -> tuple[int, bytes] | None:
        """(version, message) newer than ``after_version`` for ``audience``, or None when
        the ticker's heartbeat (every ``HEARTBEAT_SECONDS``) comes first.

        No timeout per wait: with thousands of streams, arming and cancelling a timer on
        every update was a good part of an update's cost; the ticker wakes them instead.
        """
        # No lock: the Event is read before the message, and the ticker stores a message
        # before it swaps and sets the Event, so a newer message is either seen here or
        # wakes this wait.
        channel = self.channels[poll_id][audience]  # the caller watches this poll
        newer = channel.published
        current = channel.current
        if current is None or current[0] <= after_version:
            newer.wait()
            current = channel.current
        return current if current is not None and current[0] > after_version else None

    # Ticker -----------------------------------------------------------------------------

    def _run(self) -> None:
        beat = time.monotonic() + HEARTBEAT_SECONDS
        next_refresh = 0.0  # coalesce: one snapshot per poll per interval
        while True:
            with self.lock:
                while True:
                    now = time.monotonic()
                    refresh = bool(self.dirty) and now >= next_refresh
                    wake = min(beat, self._next_due())
                    if refresh or wake <= now:
                        break
                    if self.dirty:
                        wake = min(wake, next_refresh)
                    self.signalled.wait(timeout=wake - now)
                due = set()
                if refresh:
                    due, self.dirty = self.dirty, set()
            if due:
                refreshed = self._refresh(due)
                # Nothing could be counted (the database away): try again after a pause.
                pause = 1.0 if due & self.watchers.keys() and not refreshed else self.interval
                next_refresh = time.monotonic() + pause
            else:
                refreshed = set()
            self._release_due(refreshed)
            if time.monotonic() >= beat:
                self._heartbeat()
                beat = time.monotonic() + HEARTBEAT_SECONDS

    def _next_due(self) -> float:
        """The earliest moment a held-back snapshot may go out (inf: none held back); a
        phone snapshot of a dirty poll waits for the refresh instead (see below)."""
        dues = [d for poll_id, chans in self.channels.items()
                for audience, c in chans.items()
                if (d := c.due()) is not None
                and (audience == FULL or poll_id not in self.dirty)]
        return min(dues, default=float("inf"))

    def _release_due(self, refreshed: set[int]) -> None:
        """Send the snapshots whose audience's pace allows. A held-back phone snapshot is
        not sent while a newer vote is waiting to be counted (the poll is dirty): the
        next refresh, at most ``interval`` away, replaces it and goes out at once. So the
        phones' last snapshot is at most ``public_interval`` behind the last vote, not
        that plus a refresh."""
        now = time.monotonic()
        with self.lock:
            fired = [
                channel.release(now)
                for poll_id, chans in self.channels.items()
                for audience, channel in chans.items()
                if (d := channel.due()) is not None and d <= now
                and (audience == FULL or poll_id in refreshed or poll_id not in self.dirty)]
        for event in fired:
            event.set()

    def _heartbeat(self) -> None:
        """Wake every waiting stream without a new message: each sends a heartbeat."""
        with self.lock:
            fired = [c.beat() for chans in self.channels.values() for c in chans.values()]
        for event in fired:
            event.set()

    def _refresh(self, poll_ids: set[int]) -> set[int]:
        """New snapshots of ``poll_ids``, held in their channels; returns the polls done.
        A poll that fails (the database away) stays dirty and is tried again; the others
        go out as usual."""
        from eventhub.polls.models import Poll

        fresh, failed = {}, set()
        with self.app.app_context():
            for poll_id in poll_ids:
                try:
                    poll = db.session.get(Poll, poll_id)
                    if poll is None:
                        continue
                    snap = snapshot(poll)
                except Exception:
                    if poll_id not in self.failing:  # logged once, not on every retry
                        log.exception("poll snapshot %s", poll_id)
                    db.session.rollback()
                    failed.add(poll_id)
                    continue
                fresh[poll_id] = (json.dumps(snap, ensure_ascii=False),
                                  json.dumps(public_view(snap), ensure_ascii=False))
            db.session.remove()
        with self.lock:
            self.failing = (self.failing - fresh.keys()) | failed
            self.dirty |= failed & self.watchers.keys()
            for poll_id, (full, public) in fresh.items():
                chans = self.channels.get(poll_id)
                if chans is not None:
                    chans[FULL].pending = full
                    chans[PUBLIC].pending = public
        return set(fresh)


def _message(version: int, data: str) -> bytes:
    return f"id: {version}\nevent: snapshot\ndata: {data}\n\n".encode()


def hub() -> PollHub:
    app = current_app._get_current_object()
    existing = app.extensions.get("eventhub_poll_hub")
    if existing is None:
        existing = app.extensions["eventhub_poll_hub"] = PollHub(app)
    return existing


def event_stream(poll_hub: PollHub, poll_id: int, public: bool,
                 max_seconds: float | None = None) -> Iterator[bytes]:
    """Server-Sent Events: ``retry:``, a full snapshot on every change, heartbeats."""
    audience = PUBLIC if public else FULL
    poll_hub.watch(poll_id)
    started = time.monotonic()
    try:
        yield f"retry: {RETRY_MS}\n\n".encode()
        version = 0
        while max_seconds is None or time.monotonic() - started < max_seconds:
            got = poll_hub.wait(poll_id, audience, version)
            if got is None:
                yield b": heartbeat\n\n"
                continue
            version, message = got
            yield message
    finally:
        poll_hub.unwatch(poll_id)
