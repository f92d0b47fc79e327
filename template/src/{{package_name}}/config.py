"""Configuration classes, chosen by APP_ENV and filled from the environment."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Mapping
from importlib.util import find_spec
from typing import Any, ClassVar, Final

from . import features
from .features import (
    PLACEHOLDER_SECRETS,
    not_negative_int,
    positive_int,
    switch,
    whole_number,
)

MIN_SECRET_KEY_LENGTH: Final = 32
LOG_FORMATS: Final = ("json", "console")
#: The only FLASK_DEBUG values Flask reads as off (flask.helpers.get_debug_flag); unset too.
DEBUG_OFF: Final = frozenset({"0", "false", "no"})


class ConfigError(Exception):
    """The environment cannot configure the app; the message lists every problem."""

    def __init__(self, problems: list[str], env_name: str) -> None:
        self.problems = problems
        self.env_name = env_name
        lines = "\n".join(f"  - {problem}" for problem in problems)
        super().__init__(
            f"Refusing to start: the environment does not configure APP_ENV={env_name!r}.\n"
            f"{lines}\nSet these variables (see .env.example) and start again."
        )


def _secret_key(value: str) -> str:
    if value.strip().lower() in PLACEHOLDER_SECRETS:
        raise ValueError(
            "is a known placeholder; generate one with: "
            "python -c 'import secrets; print(secrets.token_urlsafe(48))'"
        )
    if len(value) < MIN_SECRET_KEY_LENGTH:
        raise ValueError(f"is {len(value)} characters; use at least {MIN_SECRET_KEY_LENGTH}")
    # What tools/doctor.py calls a weak secret: typed, not generated.
    if value.strip().isdigit() or len(set(value)) == 1:
        weakness = "digits only" if value.strip().isdigit() else "one character repeated"
        raise ValueError(
            f"is {weakness}: a typed key, not a generated one; generate one with: "
            "python -c 'import secrets; print(secrets.token_urlsafe(48))'"
        )
    return value


def _log_level(value: str) -> str:
    level = value.strip().upper()
    if level not in logging.getLevelNamesMapping():
        raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
    return level


def _log_format(value: str) -> str:
    if value not in LOG_FORMATS:
        raise ValueError(f"must be one of {', '.join(LOG_FORMATS)}")
    return value


#: The names of releases before features declared their settings: a setting an owner added
#: to BaseConfig may still use them.
_whole_number, _positive_int, _not_negative_int, _switch = (
    whole_number,
    positive_int,
    not_negative_int,
    switch,
)


def _host_list(value: str) -> list[str]:
    hosts = [host.strip() for host in value.split(",") if host.strip()]
    if not hosts:
        raise ValueError("must list host names separated by commas, e.g. api.example.com")
    return hosts


class BaseConfig:
    """Settings every environment shares; `from_env` names those the environment may set."""

    # Lowercase attributes describe the class; uppercase ones are Flask settings.
    name: ClassVar[str] = "base"
    #: Variables read from the environment, each with the function that checks it.
    from_env: ClassVar[Mapping[str, Callable[[str], object]]] = {
        "SECRET_KEY": _secret_key,
        "LOG_LEVEL": _log_level,
        "LOG_FORMAT": _log_format,
        "LOG_QUERY_STRING": switch,
        "MAX_CONTENT_LENGTH": positive_int,
        "TRUSTED_HOSTS": _host_list,
        "PROXY_COUNT": not_negative_int,
        "API_DOCS": switch,
        "DEPENDENCY_COOLDOWN": positive_int,
    }
    #: Variables that must be set: no default is safe for them.
    required: ClassVar[frozenset[str]] = frozenset()

    TESTING = False
    SECRET_KEY: str | None = None
    LOG_LEVEL = "INFO"
    LOG_FORMAT = "json"
    #: Query strings can carry tokens: access lines leave them out unless this is on.
    LOG_QUERY_STRING = False
    MAX_CONTENT_LENGTH = 1024 * 1024
    #: Host names the app answers for (Flask checks them); None answers any Host header.
    TRUSTED_HOSTS: list[str] | None = None
    #: Proxies in front of the app whose X-Forwarded-* headers are trusted (ProxyFix).
    PROXY_COUNT = 0
    #: Serve the interactive docs page at /docs (GET /openapi.json is always served).
    API_DOCS = False
    #: Seconds a dependency that could not be reached is not called again (each request
    #: needing it gets a 503 at once, with this Retry-After); then one call probes it.
    DEPENDENCY_COOLDOWN = 5
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"


class DevelopmentConfig(BaseConfig):
    """Local development: readable logs, and a throwaway secret key when none is set."""

    name = "development"
    LOG_LEVEL = "DEBUG"
    LOG_FORMAT = "console"
    API_DOCS = True


class TestingConfig(BaseConfig):
    """The test suite: Flask's testing mode and a throwaway secret key."""

    name = "testing"
    TESTING = True


class ProductionConfig(BaseConfig):
    """Production: every secret comes from the environment, and debug stays off."""

    name = "production"
    required = BaseConfig.required | {"SECRET_KEY"}
    SESSION_COOKIE_SECURE = True
    PREFERRED_URL_SCHEME = "https"


CONFIGS: Final[Mapping[str, type[BaseConfig]]] = {
    config.name: config for config in (DevelopmentConfig, TestingConfig, ProductionConfig)
}


def load_config(environ: Mapping[str, str]) -> dict[str, Any]:
    """Return the settings APP_ENV selects, or raise ConfigError listing every problem."""
    # Unset means production: a forgotten variable must fail closed, never open.
    env_name = environ.get("APP_ENV", "").strip() or ProductionConfig.name
    config = CONFIGS.get(env_name)
    if config is None:
        choices = ", ".join(sorted(CONFIGS))
        raise ConfigError([f"APP_ENV={env_name!r} is unknown; use one of {choices}"], env_name)
    settings: dict[str, Any] = {key: getattr(config, key) for key in dir(config) if key.isupper()}
    from_env = dict(config.from_env)
    required = set(config.required)
    for setting in features.settings():
        settings[setting.name] = setting.default_in(env_name)
        from_env[setting.name] = setting.parse
        if env_name in setting.required_in:
            required.add(setting.name)
    problems: list[str] = []
    for name, parse in from_env.items():
        raw = environ.get(name, "")
        if not raw:
            if name in required:
                problems.append(f"{name} is not set")
            continue
        try:
            settings[name] = parse(raw)
        except ValueError as error:
            problems.append(f"{name} {error}")
    if config is ProductionConfig and debug_on(environ.get("FLASK_DEBUG", "")):
        problems.append(
            f"FLASK_DEBUG={environ['FLASK_DEBUG']!r} turns debug on; the debugger runs code for "
            "anyone who reaches it: unset it, or set it to 0"
        )
    for feature in features.enabled():
        problems.extend(feature.problems(settings, env_name))
    if problems:
        raise ConfigError(problems, env_name)
    if settings["SECRET_KEY"] is None:
        # Development and tests only (production requires one): valid for this process only.
        settings["SECRET_KEY"] = secrets.token_urlsafe(48)
    settings["APP_ENV"] = env_name
    # What a feature sizes its pools by: the server reads the same variables.
    from .serve import requests_at_once  # here: serve imports this module

    settings["WORKER_THREADS"], settings["WORKER_GREENLETS"] = requests_at_once(environ)
    for feature in features.enabled():
        settings.update(feature.derived(settings))
    return settings


def variables() -> frozenset[str]:
    """Return every environment variable the settings are read from, the features' too."""
    names = {"APP_ENV", *BaseConfig.from_env}
    return frozenset(names | {setting.name for setting in features.settings()})


def debug_on(value: str) -> bool:
    """Tell whether Flask reads this FLASK_DEBUG value as on: anything but unset, 0, false, no."""
    return bool(value) and value.lower() not in DEBUG_OFF


def read_dotenv() -> None:
    """Read `.env` (and `.flaskenv`) into the environment as the `flask` command does.

    Every entry point calls it: `serve` and gunicorn.conf.py before gunicorn starts, and
    wsgi.py, which the flask command, gunicorn's workers and every other process import. A
    variable the environment already sets wins. Only where python-dotenv, a development
    dependency, is installed: `uv sync --no-dev` (the image) never reads `.env`.
    """
    if find_spec("dotenv") is not None:
        from flask.cli import load_dotenv  # here: only where `.env` is read
        from flask.helpers import get_load_dotenv

        if get_load_dotenv():  # FLASK_SKIP_DOTENV=1 skips it, as for the flask command
            load_dotenv()


def load_config_or_exit(environ: Mapping[str, str]) -> dict[str, Any]:
    """Return the settings, or stop the process with the one message listing every problem."""
    try:
        return load_config(environ)
    except ConfigError as error:
        # A string exit code: Python prints it alone on stderr, with no traceback, and exits 1.
        raise SystemExit(str(error)) from None
