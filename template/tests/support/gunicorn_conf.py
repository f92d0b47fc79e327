"""gunicorn.conf.py as gunicorn reads it, in this test process."""

from __future__ import annotations

import logging.config
import os
import runpy
import secrets
from typing import Any

import pytest

from tests.support.processes import ROOT, environment

#: A production-grade key for the settings that require one.
SECRET_KEY = secrets.token_urlsafe(48)


def read_conf(monkeypatch: pytest.MonkeyPatch, **variables: str) -> dict[str, Any]:
    """Execute gunicorn.conf.py as gunicorn does, seeing only `variables`; return its names."""
    wanted = environment(**variables)
    for name in list(os.environ):
        if not name.startswith("PYTEST_"):  # pytest's own bookkeeping stays
            monkeypatch.delenv(name)
    for name, value in wanted.items():
        monkeypatch.setenv(name, value)
    # The file configures the process's logging; this test process keeps pytest's.
    # (Through the package's copy the file reads: patched where that copy's logs.py calls.)
    monkeypatch.setattr(logging.config, "dictConfig", lambda config: None)
    names = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    # What the file set for the workers it forks (a feature's folder, say) is unset after.
    for name in set(os.environ) - set(wanted):
        monkeypatch.setenv(name, os.environ[name])
    return names
