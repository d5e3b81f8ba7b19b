"""Result streams: at most ~4 full snapshots per second per poll, whatever the vote rate.

A vote publishes "changed" on ``poll:<id>`` (through Redis when configured, so every
instance hears it). Each process keeps one ``PollHub``: it marks watched polls dirty on a
signal, and a single ticker thread recomputes each dirty poll's snapshot at most once
per interval. Every open stream just waits for a newer snapshot and sends it whole, so a
reconnecting phone simply gets the current state.
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


class PollHub:
    def __init__(self, app: Flask, interval: float = 0.25) -> None:
        self.app = app
        self.interval = interval
        # The ticker waits for a "changed" signal; each stream waits for its poll's next
        # snapshot on an Event that is set once and replaced. A vote's signal wakes only
        # the ticker: with thousands of open streams, waking them all on every vote (to
        # find no new snapshot) cost more CPU than the votes themselves, and an Event
        # wakes its waiters far more cheaply than a Condition (gevent patches it, too).
        self.lock = threading.Lock()
        self.signalled = threading.Condition(self.lock)
        self.published: dict[int, threading.Event] = {}  # set when a newer snapshot is out
        self.watchers: Counter[int] = Counter()
        self.dirty: set[int] = set()
        # poll id -> (version, full message, public message): each SSE message is encoded
        # once here, and every stream writes the same bytes.
        self.snapshots: dict[int, tuple[int, bytes, bytes]] = {}
        self._thread: threading.Thread | None = None

    # Streams ------------------------------------------------------------------------

    def watch(self, poll_id: int) -> None:
        from eventhub.realtime import InProcessBroker

        broker: InProcessBroker = self.app.extensions["eventhub_broker"]
        with self.lock:
            self.watchers[poll_id] += 1
            first = self.watchers[poll_id] == 1
            if first:
                self.published[poll_id] = threading.Event()
            if first or poll_id not in self.snapshots:
                self.dirty.add(poll_id)
                self.signalled.notify()
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="poll-hub",
                                                daemon=True)
                self._thread.start()
        if first:
            broker.subscribe(f"poll:{poll_id}", self.on_message)

    def unwatch(self, poll_id: int) -> None:
        broker = self.app.extensions["eventhub_broker"]
        with self.lock:
            self.watchers[poll_id] -= 1
            last = self.watchers[poll_id] <= 0
            if last:
                del self.watchers[poll_id]
                self.snapshots.pop(poll_id, None)
                self.published.pop(poll_id, None)
        if last:
            broker.unsubscribe(f"poll:{poll_id}", self.on_message)

    def on_message(self, channel: str, message: str) -> None:
        poll_id = int(channel.rsplit(":", 1)[1])
        with self.lock:
            if poll_id in self.watchers and poll_id not in self.dirty:
                self.dirty.add(poll_id)
                self.signalled.notify()

    def wait(self, poll_id: int, after_version: int) -> tuple[int, bytes, bytes] | None:
        """The snapshot newer than ``after_version``, or None when the ticker's heartbeat
        (every ``HEARTBEAT_SECONDS``) comes first.

        No timeout per wait: with thousands of streams, arming and cancelling a timer on
        every update was a good part of an update's cost; the ticker wakes them instead.
        """
        # No lock: the Event is read before the snapshot, and the ticker stores a snapshot
        # before it swaps and sets the Event, so a newer snapshot is either seen here or
        # wakes this wait.
        newer = self.published[poll_id]  # the caller watches this poll
        current = self.snapshots.get(poll_id)
        if current is None or current[0] <= after_version:
            newer.wait()
            current = self.snapshots.get(poll_id)
        return current if current is not None and current[0] > after_version else None

    # Ticker -----------------------------------------------------------------------------

    def _run(self) -> None:
        beat = time.monotonic() + HEARTBEAT_SECONDS
        while True:
            with self.lock:
                self.signalled.wait_for(lambda: bool(self.dirty),
                                        timeout=max(0.0, beat - time.monotonic()))
                due, self.dirty = set(self.dirty), set()
            if due:
                self._refresh(due)
            if time.monotonic() >= beat:
                self._heartbeat()
                beat = time.monotonic() + HEARTBEAT_SECONDS
            if due:
                time.sleep(self.interval)  # coalesce: one snapshot per poll per interval

    def _heartbeat(self) -> None:
        """Wake every waiting stream without a new snapshot: each sends a heartbeat."""
        with self.lock:
            fired = list(self.published.values())
            for poll_id in self.published:
                self.published[poll_id] = threading.Event()
        for event in fired:
            event.set()

    def _refresh(self, poll_ids: set[int]) -> None:
        from eventhub.polls.models import Poll

        try:
            with self.app.app_context():
                fresh = {}
                for poll_id in poll_ids:
                    poll = db.session.get(Poll, poll_id)
                    if poll is None:
                        continue
                    snap = snapshot(poll)
                    fresh[poll_id] = (json.dumps(snap, ensure_ascii=False),
                                      json.dumps(public_view(snap), ensure_ascii=False))
                db.session.remove()
        except Exception:  # database away: try again on the next signal
            log.exception("poll snapshot")
            with self.lock:
                self.dirty |= poll_ids
            time.sleep(1.0)
            return
        fired = []
        with self.lock:
            for poll_id, (full, public) in fresh.items():
                if poll_id in self.watchers:
                    version = self.snapshots.get(poll_id, (0, b"", b""))[0] + 1
                    self.snapshots[poll_id] = (version, _message(version, full),
                                               _message(version, public))
                    fired.append(self.published[poll_id])
                    self.published[poll_id] = threading.Event()
        for event in fired:
            event.set()


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
    poll_hub.watch(poll_id)
    started = time.monotonic()
    try:
        yield f"retry: {RETRY_MS}\n\n".encode()
        version = 0
        while max_seconds is None or time.monotonic() - started < max_seconds:
            got = poll_hub.wait(poll_id, version)
            if got is None:
                yield b": heartbeat\n\n"
                continue
            version = got[0]
            yield got[2] if public else got[1]
    finally:
        poll_hub.unwatch(poll_id)
