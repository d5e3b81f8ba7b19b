"""One transaction per request, committed in one place.

Views translate HTTP and services flush; neither commits. After a view returns, the
request's unit of work is committed here, once, before the response is made (as
Indico's request handler does). If the view raises, the transaction is rolled back and
the error handlers answer: a ``DomainError`` with its message, anything else with the
error page. A view that wants to answer a broken rule itself (a form that keeps what
the person typed) runs the service inside ``attempt()``, which rolls back and hands it
the error.

Work that must only happen once the data is stored (telling live result streams that a
poll changed, waking the mail worker) is queued with ``after_commit``.

The one exception to this rule is the quick vote's batch writer
(``eventhub.polls.ballots``): it writes ballots of many requests in one autocommit
statement on a connection of its own, outside the request's session.
"""

from __future__ import annotations

import functools
import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from flask import Flask, current_app, g, request
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from eventhub.errors import DomainError
from eventhub.extensions import db


class TransactionalFlask(Flask):
    """Flask whose view dispatch ends in the request's single commit."""

    def dispatch_request(self):
        try:
            rv = super().dispatch_request()
            db.session.commit()
        except BaseException:
            db.session.rollback()
            raise
        finally:
            for release in g.pop(_TURNS, ()):
                release()
        return rv


_TURNS = "eventhub_turns"
_STRIPES = 32


class Turnstile:
    """``at_once`` turns, handed out first come, first served.

    A released turn goes straight to the longest waiting request; a newcomer never takes
    it first (a plain semaphore lets it, and under load some requests then wait far
    longer than others).
    """

    def __init__(self, at_once: int) -> None:
        self._lock = threading.Lock()
        self._free = at_once
        self._waiting: deque[threading.Event] = deque()

    def acquire(self) -> None:
        with self._lock:
            if self._free and not self._waiting:
                self._free -= 1
                return
            handed = threading.Event()
            self._waiting.append(handed)
        try:
            handed.wait()
        except BaseException:  # the request was cut off while waiting (worker stopping)
            with self._lock:
                if not handed.is_set():
                    self._waiting.remove(handed)
                    raise
            self.release()  # handed over meanwhile: pass it on
            raise

    def release(self) -> None:
        with self._lock:
            if self._waiting:
                self._waiting.popleft().set()
            else:
                self._free += 1


def take_turns(name: str, at_once: int = 1, methods: tuple[str, ...] = ("POST",)):
    """Decorator: this view's requests (of ``methods``) with the same URL arguments (the
    same event) take turns within the process, ``at_once`` at a time, first come first
    served, each from the start of the view until its unit of work is committed or
    rolled back.

    For views that lock what owns a capacity (``db.lock_row``): one request at a time
    holds that lock, and everyone else's waits on it. Under gevent a worker runs many
    requests at once. Without turns, each of a rush's registrations took a database
    connection and waited on the lock with it, so the worker's other pages waited for a
    connection too (seconds); and the lock holder shared the worker's CPU with all the
    others at each of its round trips, so it held the lock longer, which sets the pace
    for everyone. One at a time per worker held it shortest and made the most
    registrations a second (docs/benchmarks.md). Those waiting their turn hold no
    connection and cost nothing. With sync workers (one request at a time anyway)
    nothing changes.
    """
    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def take_turn(*args, **kwargs):
            if request.method in methods:
                # A fixed set of turnstiles, made on first use in the serving process
                # (under gevent after its monkey-patching, so waiting yields to other
                # greenlets); two events sharing one only take turns with each other.
                turns = current_app.extensions.get(_TURNS) or current_app.extensions.\
                    setdefault(_TURNS, [Turnstile(at_once) for _ in range(_STRIPES)])
                turn = turns[hash((name, *kwargs.values())) % _STRIPES]
                turn.acquire()
                g.setdefault(_TURNS, []).append(turn.release)
            return view(*args, **kwargs)
        return take_turn
    return decorate


_QUEUE = "eventhub.after_commit"


def after_commit(fn: Callable[[], object]) -> None:
    """Run ``fn`` once the current unit of work is committed (dropped on rollback)."""
    db.session().info.setdefault(_QUEUE, []).append(fn)


def _run_queued(session: Session) -> None:
    for fn in session.info.pop(_QUEUE, ()):
        fn()


def _drop_queued(session: Session, previous_transaction) -> None:
    if previous_transaction.parent is None and not previous_transaction.nested:
        session.info.pop(_QUEUE, None)


def init_app(app: Flask) -> None:
    """Hook the after-commit queue to the app's session (once per process: the session
    factory is the shared ``db`` object's)."""
    for name, fn in (("after_commit", _run_queued), ("after_soft_rollback", _drop_queued)):
        if not sa_event.contains(db.session, name, fn):
            sa_event.listen(db.session, name, fn)


@dataclass
class Attempt:
    """What ``attempt()`` caught; false when the service call went through."""

    error: DomainError | None = None

    def __bool__(self) -> bool:
        return self.error is not None

    @property
    def message(self) -> str:
        return self.error.message if self.error is not None else ""


@contextmanager
def attempt(*kinds: type[DomainError]) -> Iterator[Attempt]:
    """Run service calls; a domain error of ``kinds`` (default: any) rolls back the
    request's work and is handed to the view, which answers it (keeping the form)."""
    caught: tuple[type[DomainError], ...] = kinds or (DomainError,)
    outcome = Attempt()
    try:
        yield outcome
    except caught as exc:
        db.session.rollback()
        outcome.error = exc
