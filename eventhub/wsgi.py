"""WSGI entry point: ``gunicorn -c deploy/gunicorn.conf.py eventhub.wsgi:app``."""

from eventhub import create_app

app = create_app()
