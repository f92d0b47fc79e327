"""Fixtures of the optional features this service has: one pytest plugin each, in this folder.

conftest.py loads every module here as a plugin. A plugin adds its feature's fixtures, and may
implement the hooks below, so that conftest.py's fixtures name no feature.
"""

from __future__ import annotations

import pkgutil

import pytest
from flask import Flask

#: Every plugin module of this folder, as pytest_plugins names them.
PLUGINS = sorted(f"{__name__}.{module.name}" for module in pkgutil.iter_modules(__path__))


class FeatureHooks:
    """The hooks a feature's plugin may implement (pytest.hookimpl)."""

    @pytest.hookspec
    def pytest_service_testing_env(self, request: pytest.FixtureRequest) -> dict[str, str]:
        """Return variables every test app's environment needs for this feature."""
        return {}

    @pytest.hookspec
    def pytest_service_test_done(self, app: Flask) -> None:
        """Undo what the test wrote through its app (the `app` fixture's)."""

    @pytest.hookspec
    def pytest_service_app_done(self, app: Flask) -> None:
        """Close what a test app holds open; every app a test made, also one that failed."""
