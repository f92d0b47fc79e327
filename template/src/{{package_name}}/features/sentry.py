"""Sentry (sentry.py): where unhandled errors are reported, and where it is bound."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final
from urllib.parse import urlsplit

from . import Feature, Setting

if TYPE_CHECKING:
    from flask import Flask

SENTRY_DSN_EXAMPLE: Final = "https://<key>@<host>/<project id>"


def sentry_dsn(value: str) -> str:
    """Read a DSN in the shape sentry_sdk requires."""
    # Refused here, with every other problem and before any worker forks, rather than as a
    # traceback from each worker.
    problem = f"must look like {SENTRY_DSN_EXAMPLE}, as the Sentry project shows it"
    try:
        parts = urlsplit(value)
        host, _ = parts.hostname, parts.port  # reading the port checks it
    except ValueError:  # a port that is no number, a broken IPv6 address
        raise ValueError(problem) from None
    project_id = parts.path.rpartition("/")[2]
    if parts.scheme not in {"http", "https"} or not (host and parts.username):
        raise ValueError(problem)
    if not project_id.isdigit():  # sentry_sdk reads it as a number
        raise ValueError(problem)
    return value


def init_app(app: Flask) -> None:
    """Report the app's unhandled errors, where SENTRY_DSN says."""
    from .. import sentry  # here: declaring the feature imports nothing

    sentry.init_app(app)


FEATURE: Final = Feature(
    "sentry",
    settings=(
        #: Where unhandled errors are reported; None reports nothing, never imports sentry_sdk.
        Setting("SENTRY_DSN", sentry_dsn, secret=True),
        #: None reports APP_ENV.
        Setting("SENTRY_ENVIRONMENT", str),
        #: None reports "<distribution>@<installed version>".
        Setting("SENTRY_RELEASE", str),
    ),
    init_app=init_app,
    order=10,
)
