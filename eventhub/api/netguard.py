"""Webhooks go to the internet only: a target that resolves to a loopback, private,
link-local (cloud metadata) or otherwise non-public address is refused, when the
endpoint is registered and again on every connection (the address actually connected
to is checked, so DNS that changes its answer later gains nothing).
``WEBHOOK_ALLOW_LOOPBACK`` lets tests and local receivers use 127.0.0.1 / ::1."""

from __future__ import annotations

import ipaddress
import socket

import requests
from flask import current_app, has_app_context
from flask_babel import gettext as _
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool


class Refused(Exception):
    """The target's address is not on the public internet."""


def _allow_loopback(allow: bool | None) -> bool:
    if allow is not None:
        return allow
    return bool(has_app_context() and current_app.config.get("WEBHOOK_ALLOW_LOOPBACK"))


def check_address(address: str, allow_loopback: bool | None = None) -> None:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback and _allow_loopback(allow_loopback):
        return
    if not ip.is_global or ip.is_multicast:
        raise Refused(_("Adressen peger ind i et internt netværk (%(ip)s). Brug en offentlig "
                        "adresse.", ip=str(ip)))


def check_host(host: str, port: int, allow_loopback: bool | None = None) -> None:
    """Every address ``host`` resolves to must be public."""
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError, ValueError):
        raise Refused(_("Adressens værtsnavn kan ikke slås op.")) from None
    for info in infos:
        check_address(info[4][0], allow_loopback)


class _Guarded:
    """Mixed into urllib3's connections: the peer a socket reached must be public."""

    allow_loopback = False

    def _new_conn(self):
        sock = super()._new_conn()
        try:
            check_address(sock.getpeername()[0], self.allow_loopback)
        except Refused:
            sock.close()
            raise
        return sock


class _GuardedHTTP(_Guarded, HTTPConnection):
    pass


class _GuardedHTTPS(_Guarded, HTTPSConnection):
    pass


def session(allow_loopback: bool) -> requests.Session:
    """A requests session whose connections are checked as above; no proxies from the
    environment, no redirects are followed by the caller."""
    http_conn = type("Http", (_GuardedHTTP,), {"allow_loopback": allow_loopback})
    https_conn = type("Https", (_GuardedHTTPS,), {"allow_loopback": allow_loopback})
    http_pool = type("HttpPool", (HTTPConnectionPool,), {"ConnectionCls": http_conn})
    https_pool = type("HttpsPool", (HTTPSConnectionPool,), {"ConnectionCls": https_conn})

    class Adapter(HTTPAdapter):
        def init_poolmanager(self, *args, **kwargs):
            super().init_poolmanager(*args, **kwargs)
            self.poolmanager.pool_classes_by_scheme = {"http": http_pool, "https": https_pool}

    s = requests.Session()
    s.trust_env = False
    s.max_redirects = 0
    s.mount("http://", Adapter())
    s.mount("https://", Adapter())
    return s
