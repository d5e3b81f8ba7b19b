"""Publish/subscribe for live updates: in-process by default, Redis when configured.

Messages are tiny "changed" signals on a channel (``poll:<id>`` when a poll's results
change, ``event:<id>`` when a poll of the event opens or closes or the room's screen
moves on); whoever listens
computes the current state itself, so a lost or merged signal costs nothing.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable

from flask import Flask, current_app

log = logging.getLogger(__name__)
Listener = Callable[[str, str], None]  # (channel, message)


class InProcessBroker:
    """Delivers to listeners in this process only (one app instance)."""

    def __init__(self) -> None:
        self._listeners: dict[str, set[Listener]] = defaultdict(set)
        self._lock = threading.Lock()

    def publish(self, channel: str, message: str = "changed") -> None:
        with self._lock:
            listeners = list(self._listeners.get(channel, ()))
        for listener in listeners:
            try:
                listener(channel, message)
            except Exception:  # one bad listener must not stop the others
                log.exception("listener on %s", channel)

    def subscribe(self, channel: str, listener: Listener) -> None:
        with self._lock:
            self._listeners[channel].add(listener)

    def unsubscribe(self, channel: str, listener: Listener) -> None:
        with self._lock:
            self._listeners.get(channel, set()).discard(listener)

    def close(self) -> None:
        pass


class RedisBroker(InProcessBroker):
    """Publishes through Redis; one listener thread per process fans messages out locally,
    so every app instance behind the proxy hears every vote."""

    def __init__(self, pool, patterns: tuple[str, ...] = ("poll:*", "event:*")) -> None:
        super().__init__()
        import redis

        # The process's shared pool (eventhub.extensions.redis_pool): a burst of votes
        # publishes from many requests at once and waits for a free connection rather
        # than failing; the subscription holds one connection of it.
        self._redis = redis.Redis(connection_pool=pool)
        self._patterns = patterns
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._listen, name="redis-broker", daemon=True)
        self._thread.start()

    def publish(self, channel: str, message: str = "changed") -> None:
        try:
            self._redis.publish(channel, message)
        except Exception:  # Redis away: deliver locally so this instance stays live
            log.warning("Redis publish failed on %s; delivering locally only", channel)
            super().publish(channel, message)

    def _listen(self) -> None:
        while not self._stopped.is_set():
            pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            try:
                pubsub.psubscribe(*self._patterns)
                while not self._stopped.is_set():
                    item = pubsub.get_message(timeout=1.0)
                    if item and item.get("type") == "pmessage":
                        channel = item["channel"].decode()
                        data = item["data"]
                        super().publish(channel, data.decode() if isinstance(data, bytes)
                                        else str(data))
            except Exception:  # reconnect after an outage
                log.warning("Redis subscription lost; reconnecting")
                time.sleep(1.0)
            finally:
                pubsub.close()  # its connection goes back to the pool

    def close(self) -> None:
        self._stopped.set()


def init_broker(app: Flask) -> None:
    """Attach the broker named by the configuration to the app."""
    from eventhub.extensions import redis_pool

    url = app.config.get("REDIS_URL")
    app.extensions["eventhub_broker"] = (RedisBroker(redis_pool(app, url)) if url
                                         else InProcessBroker())


def broker() -> InProcessBroker:
    return current_app.extensions["eventhub_broker"]
