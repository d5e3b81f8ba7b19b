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

One stream per page: a join page (and the room's screen) follows every open poll of its
event over a single stream (``page_stream``), so a phone holds one connection however
many polls are open. The hub keeps a ``_Group`` per event and audience: the event's open
polls (each watched once for the whole group, with the same coalescing as a single
poll's stream) and a "state" message that names them (and, for staff, what the room's
screen shows). ``event:<id>`` on the broker says a poll opened or closed or the screen
moved; the ticker then reads the event's open polls again and announces them, so pages
add and remove polls without a reload.
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


class _Group:
    """The open polls of one event for one audience, and the streams that follow them
    (woken like a channel's streams: ``published`` is set once and replaced)."""

    __slots__ = ("event_id", "audience", "published", "polls", "state")

    def __init__(self, event_id: int, audience: str) -> None:
        self.event_id, self.audience = event_id, audience
        self.published = threading.Event()
        self.polls: tuple[int, ...] = ()
        self.state: tuple[int, bytes] | None = None  # (version, SSE "state" message)

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
        self.groups: dict[tuple[int, str], _Group] = {}
        self.group_watchers: Counter[tuple[int, str]] = Counter()
        self.events_dirty: set[int] = set()
        self._thread: threading.Thread | None = None

    # Streams ------------------------------------------------------------------------

    def watch(self, poll_id: int) -> None:

        # (Un)subscribing under the hub's lock: a last stream leaving while a first one
        # arrives must not leave the poll unsubscribed. It cannot deadlock: the broker
        # calls listeners (``on_message``) after releasing its own lock.
        with self.lock:
            self._watch(poll_id)
            self._start()

    def unwatch(self, poll_id: int) -> None:
        with self.lock:
            self._unwatch(poll_id)

    def _start(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name="poll-hub", daemon=True)
            self._thread.start()

    def _watch(self, poll_id: int) -> None:
        """(under the lock)"""
        self.watchers[poll_id] += 1
        first = self.watchers[poll_id] == 1
        if first:
            self.channels[poll_id] = {FULL: _Channel(self.interval),
                                      PUBLIC: _Channel(self.public_interval)}
            # Subscribed before the first snapshot is read, so no vote falls between.
            self.app.extensions["eventhub_broker"].subscribe(f"poll:{poll_id}",
                                                             self.on_message)
        if first or self.channels[poll_id][FULL].current is None:
            self.dirty.add(poll_id)
            self.signalled.notify()

    def _unwatch(self, poll_id: int) -> None:
        """(under the lock)"""
        self.watchers[poll_id] -= 1
        if self.watchers[poll_id] <= 0:
            del self.watchers[poll_id]
            self.channels.pop(poll_id, None)
            self.dirty.discard(poll_id)
            self.app.extensions["eventhub_broker"].unsubscribe(f"poll:{poll_id}",
                                                               self.on_message)

    def watch_event(self, event_id: int, audience: str) -> _Group:
        """Follow every open poll of an event (one stream of a page)."""
        key = (event_id, audience)
        with self.lock:
            self.group_watchers[key] += 1
            group = self.groups.get(key)
            if group is None:
                group = self.groups[key] = _Group(event_id, audience)
                if not any(e == event_id for e, _a in self.groups if (e, _a) != key):
                    self.app.extensions["eventhub_broker"].subscribe(
                        f"event:{event_id}", self.on_message)
                self.events_dirty.add(event_id)
                self.signalled.notify()
            self._start()
            return group

    def unwatch_event(self, event_id: int, audience: str) -> None:
        key = (event_id, audience)
        with self.lock:
            self.group_watchers[key] -= 1
            if self.group_watchers[key] > 0:
                return
            del self.group_watchers[key]
            group = self.groups.pop(key, None)
            for poll_id in group.polls if group else ():
                self._unwatch(poll_id)
            if not any(e == event_id for e, _a in self.groups):
                self.events_dirty.discard(event_id)
                self.app.extensions["eventhub_broker"].unsubscribe(
                    f"event:{event_id}", self.on_message)

    def on_message(self, channel: str, message: str) -> None:
        kind, _sep, number = channel.rpartition(":")
        with self.lock:
            if kind == "event":
                self.events_dirty.add(int(number))
                self.signalled.notify()
                return
            poll_id = int(number)
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
            events: set[int] = set()
            with self.lock:
                while True:
                    now = time.monotonic()
                    refresh = bool(self.dirty) and now >= next_refresh
                    events, self.events_dirty = self.events_dirty, set()
                    if events:
                        break
                    wake = min(beat, self._next_due())
                    if refresh or wake <= now:
                        break
                    if self.dirty:
                        wake = min(wake, next_refresh)
                    self.signalled.wait(timeout=wake - now)
                due = set()
                if refresh:
                    due, self.dirty = self.dirty, set()
            if events:
                self._refresh_events(events)
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
            released = [
                (poll_id, audience, channel.release(now))
                for poll_id, chans in self.channels.items()
                for audience, channel in chans.items()
                if (d := channel.due()) is not None and d <= now
                and (audience == FULL or poll_id in refreshed or poll_id not in self.dirty)]
            fired = [event for _p, _a, event in released]
            if released and self.groups:
                touched = {(p, a) for p, a, _e in released}
                fired += [group.beat() for group in self.groups.values()
                          if any((p, group.audience) in touched for p in group.polls)]
        for event in fired:
            event.set()

    def _heartbeat(self) -> None:
        """Wake every waiting stream without a new message: each sends a heartbeat."""
        with self.lock:
            fired = [c.beat() for chans in self.channels.values() for c in chans.values()]
            fired += [group.beat() for group in self.groups.values()]
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


    def _refresh_events(self, event_ids: set[int]) -> None:
        """Read the open polls (and the screen) of these events again; each group then
        watches exactly those polls and announces them in a new "state" message."""
        from eventhub.polls.screen import state_of

        states = {}
        with self.app.app_context():
            for event_id in event_ids:
                try:
                    states[event_id] = state_of(event_id)
                except Exception:
                    log.exception("poll state of event %s", event_id)
                    db.session.rollback()
            db.session.remove()
        fired = []
        with self.lock:
            self.events_dirty |= event_ids - states.keys()
            for (event_id, audience), group in self.groups.items():
                state = states.get(event_id)
                if state is None:
                    continue
                polls = tuple(state["polls"])
                for poll_id in set(polls) - set(group.polls):
                    self._watch(poll_id)
                for poll_id in set(group.polls) - set(polls):
                    self._unwatch(poll_id)
                group.polls = polls
                shown = state if audience == FULL else {"polls": state["polls"]}
                version = group.state[0] + 1 if group.state else 1
                group.state = (version, f"event: state\ndata: {json.dumps(shown)}\n\n"
                               .encode())
                fired.append(group.beat())
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


def page_stream(poll_hub: PollHub, event_id: int, public: bool,
                 max_seconds: float | None = None) -> Iterator[bytes]:
    """One stream for a page: "state" (the open polls, and for staff the screen) when it
    changes, then each open poll's snapshot whenever it has a newer one; heartbeats."""
    audience = PUBLIC if public else FULL
    group = poll_hub.watch_event(event_id, audience)
    started = time.monotonic()
    try:
        yield f"retry: {RETRY_MS}\n\n".encode()
        state_version, sent, woke = 0, {}, False
        while max_seconds is None or time.monotonic() - started < max_seconds:
            # The Event is read before the messages (see ``PollHub.wait``).
            newer = group.published
            out = []
            state = group.state
            if state is not None and state[0] > state_version:
                state_version = state[0]
                out.append(state[1])
            if state_version:  # the polls are known: their snapshots follow the state
                for poll_id in group.polls:
                    channel = poll_hub.channels.get(poll_id, {}).get(audience)
                    current = channel.current if channel is not None else None
                    if current is not None and current[0] > sent.get(poll_id, 0):
                        sent[poll_id] = current[0]
                        out.append(current[1])
            if out:
                woke = False
                yield b"".join(out)
                continue
            if woke:
                yield b": heartbeat\n\n"
            newer.wait()
            woke = True
    finally:
        poll_hub.unwatch_event(event_id, audience)
