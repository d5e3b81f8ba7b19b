"""What makes the suite faster without changing what a test checks (tests/conftest.py
puts them in place):

- Passwords are hashed with one PBKDF2 round: production's scrypt is slow by design
  (~0.1 s a hash, about a third of the suite's CPU time when every sign-in paid it).
  test_accounts checks the app's own hashing.
- The SQLite test database skips fsync (``PRAGMA synchronous=OFF``): it is thrown away
  after the run, and every commit waited for the disk.
- The tests' apps share compiled templates: every test gets a fresh app, whose Jinja
  environment would otherwise lex, parse and compile each template it renders again.
"""

from __future__ import annotations

from functools import partial

from jinja2 import BytecodeCache
from werkzeug.security import generate_password_hash

fast_password_hash = partial(generate_password_hash, method="pbkdf2:sha256:1")


def sqlite_without_fsync(dbapi_connection, connection_record) -> None:
    """A SQLAlchemy "connect" listener: SQLite connections of this process don't fsync."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA synchronous=OFF")
        cursor.close()


class SharedTemplateCache(BytecodeCache):
    """Compiled templates in memory, for every app of the run (Jinja checks each entry
    against the template's source, so an edited template is compiled again)."""

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket) -> None:
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


template_cache = SharedTemplateCache()
