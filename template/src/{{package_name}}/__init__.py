"""The service's application factory: the app from its settings, and nothing else.

What starts a process (the environment read, logging configured) is the entry point's: wsgi.py,
for gunicorn, the flask command (`flask --app <package>.wsgi`) and every other process.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

from . import api, errors, features, health, openapi, request_log, security


def create_app(settings: Mapping[str, Any]) -> Flask:
    """Create the app from `settings`, as config.load_config returns them."""
    # ./instance where the service is started (the project, or the image's workdir), never a
    # folder inside the package, which a src layout and an installed wheel would both hide.
    app = api.JsonApi(__name__, instance_path=str(Path.cwd() / "instance"))
    app.config.from_mapping(settings)
    errors.init_app(app)
    app.register_blueprint(health.bp)
    openapi.init_app(app)
    # Each optional feature this service was generated with (features/), in its order.
    for feature in features.enabled():
        feature.init_app(app)
    # Middleware last, outermost: the access line times and tags everything inside it.
    security.init_app(app)
    app.wsgi_app = request_log.RequestLog(  # type: ignore[method-assign]
        app.wsgi_app, settings["LOG_FORMAT"], settings["LOG_QUERY_STRING"]
    )
    return app
