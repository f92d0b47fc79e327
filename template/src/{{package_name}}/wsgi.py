"""The module-level app, for WSGI servers only (gunicorn.conf.py names it)."""

from . import create_app

app = create_app()
