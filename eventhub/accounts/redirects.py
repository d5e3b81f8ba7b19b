"""Where a sign-in (or any form with a ``next`` / ``back`` field) may send the browser.

Only a path on this site. A browser reading a ``Location`` header drops leading and
trailing spaces and control characters, removes tabs and line breaks anywhere, reads a
backslash as a slash and treats any run of two or more slashes as the start of a host
name, so ``/\\t/evil.example`` is ``//evil.example`` to it. A server behind us may decode
``%2F`` and ``%5C`` (even twice). So the value is checked in every decoded form and
answered re-quoted, or refused.
"""

from __future__ import annotations

import re
from urllib.parse import quote, unquote, urlsplit

MAX_LENGTH = 500  # what a magic link can store

# C0 and C1 control characters, DEL, and every Unicode space but the ordinary one (which
# the browser sends as %20 inside a path).
_CONTROL_OR_SPACE = re.compile(r"[\x00-\x1f\x7f-\x9f]|[^\S ]")
_DECODE_ROUNDS = 4
_PATH_SAFE = "/%:@!$&'()*+,;=-._~"
_QUERY_SAFE = _PATH_SAFE + "?"


def _decoded_forms(value: str) -> list[str] | None:
    """The value and each stage of percent-decoding it; None if it never settles."""
    forms = [value]
    for _round in range(_DECODE_ROUNDS):
        decoded = unquote(forms[-1])
        if decoded == forms[-1]:
            return forms
        forms.append(decoded)
    return None


def _is_plain_local_path(value: str) -> bool:
    """One decoded form: a path of this site, with no way for a browser to leave it."""
    if _CONTROL_OR_SPACE.search(value) or "\\" in value:
        return False
    path = re.split(r"[?#]", value, maxsplit=1)[0]
    # urlsplit reads "///evil" as an empty host and the path "/evil"; a browser reads a
    # host. So the path is checked as written: one slash, then never two in a row.
    if not path.startswith("/") or "//" in path:
        return False
    try:
        parts = urlsplit(value)
    except ValueError:  # e.g. "//[evil"
        return False
    if parts.scheme or parts.netloc or parts.path != path:
        return False
    # "/./" and "/../" are resolved by the browser and could join two slashes.
    return not any(segment in (".", "..") for segment in path.split("/"))


def safe_next_url(next_url: str | None) -> str | None:
    """A path on this site to redirect to, re-quoted; None for anything else."""
    if not isinstance(next_url, str) or len(next_url) > 2 * MAX_LENGTH:
        return None
    # Ordinary spaces inside a path are fine (quoted below); at either end a browser
    # would drop them, so they are dropped here too before checking.
    candidate = next_url.strip(" ")
    forms = _decoded_forms(candidate)
    if not forms or not all(_is_plain_local_path(form) for form in forms):
        return None
    parts = urlsplit(candidate)
    url = quote(parts.path, safe=_PATH_SAFE)
    if parts.query:
        url += "?" + quote(parts.query, safe=_QUERY_SAFE)
    if parts.fragment:
        url += "#" + quote(parts.fragment, safe=_QUERY_SAFE)
    if len(url) > MAX_LENGTH or not _is_plain_local_path(url):
        return None
    return url
