"""WSGI entry point of a checkout: ``gunicorn wsgi:app``, kept for existing deployments.

Use ``eventhub.wsgi:app``, which an installed wheel has too; this module is not part of the
built distribution.
"""

from eventhub.wsgi import app  # noqa: F401
