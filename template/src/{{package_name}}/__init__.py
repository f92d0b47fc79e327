"""The service's application factory: `flask --app <package> run` finds `create_app`."""

from __future__ import annotations

import os
from collections.abc import Mapping

from flask import Flask

from . import errors, health, request_log
from .config import load_config
from .logs import configure_logging


def create_app(config: Mapping[str, str] | None = None) -> Flask:
    """Create the app from `config`, a mapping read in place of the process environment."""
    settings = load_config(os.environ if config is None else config)
    if config is None:
        # A real start configures the process's logging, before the app exists, so Flask
        # never adds its own handler. Tests pass `config` and keep pytest's handlers.
        configure_logging(settings["LOG_LEVEL"], settings["LOG_FORMAT"])
    app = Flask(__name__)
    app.config.from_mapping(settings)
    errors.init_app(app)
    request_log.init_app(app)
    app.register_blueprint(health.bp)
    return app
