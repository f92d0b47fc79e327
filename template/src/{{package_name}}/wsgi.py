"""The app every entry point serves, made from the process environment.

gunicorn (gunicorn.conf.py names `wsgi:app`), the flask command (`flask --app <package>.wsgi`)
and the job processes import it. Here, not in create_app: `.env` read (development), the
environment checked (a bad one stops the process with one message listing every problem),
the process's logging configured before the app exists, so Flask never adds its own handler.
"""

import os

from . import create_app
from .config import load_config_or_exit, read_dotenv
from .logs import configure_logging

read_dotenv()
_settings = load_config_or_exit(os.environ)
configure_logging(_settings["LOG_LEVEL"], _settings["LOG_FORMAT"])
app = create_app(_settings)
