"""Where EventHub finds its files, in a checkout and in an installed distribution.

A checkout keeps ``templates/``, ``migrations/`` and ``deploy/`` at the top, next to the
package; a built wheel carries them inside the package (``setup.py`` copies them). Static
files and translations live in the package in both. The instance folder (SQLite
database, secret key, mail) is ``EVENTHUB_INSTANCE`` if set, else ``instance/`` in the
checkout, else ``<sys.prefix>/var/eventhub-instance`` (Flask's convention for installed
applications).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
# An installed distribution has the migrations inside the package; a checkout does not.
INSTALLED = (PACKAGE_DIR / "migrations").is_dir()
CHECKOUT: Path | None = None if INSTALLED else PACKAGE_DIR.parent
# The folder holding templates/, migrations/ and deploy/.
ROOT = PACKAGE_DIR if INSTALLED else PACKAGE_DIR.parent

TEMPLATES_DIR = ROOT / "templates"
MIGRATIONS_DIR = ROOT / "migrations"
GUNICORN_CONF = ROOT / "deploy" / "gunicorn.conf.py"
STATIC_DIR = PACKAGE_DIR / "static"
TRANSLATIONS_DIR = PACKAGE_DIR / "translations"


def instance_dir() -> Path:
    """The instance folder: ``EVENTHUB_INSTANCE``, the checkout's, or the install's."""
    configured = os.environ.get("EVENTHUB_INSTANCE", "").strip()
    if configured:
        return Path(configured).expanduser().resolve()
    if CHECKOUT is not None:
        return CHECKOUT / "instance"
    return Path(sys.prefix) / "var" / "eventhub-instance"
