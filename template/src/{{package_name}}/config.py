"""Configuration classes, chosen by APP_ENV and filled from the environment."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Final

#: Secret values that show a setting was copied from an example, not generated.
PLACEHOLDER_SECRETS: Final = frozenset(
    {"changeme", "change-me", "change_me", "secret", "dev", "development", "replace-me"}
    | {"replace_me", "your-secret-key", "your_secret_key", "supersecret", "password", "test"}
)
MIN_SECRET_KEY_LENGTH: Final = 32
LOG_FORMATS: Final = ("json", "console")


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


def _positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise ValueError(f"must be a whole number, not {value!r}") from None
    if number <= 0:
        raise ValueError("must be greater than zero")
    return number


class BaseConfig:
    """Settings every environment shares; `from_env` names those the environment may set."""

    # Lowercase attributes describe the class; uppercase ones are Flask settings.
    name: ClassVar[str] = "base"
    #: Variables read from the environment, each with the function that checks it.
    from_env: ClassVar[Mapping[str, Callable[[str], object]]] = {
        "SECRET_KEY": _secret_key,
        "LOG_LEVEL": _log_level,
        "LOG_FORMAT": _log_format,
        "MAX_CONTENT_LENGTH": _positive_int,
    }
    #: Variables that must be set: no default is safe for them.
    required: ClassVar[frozenset[str]] = frozenset()

    TESTING = False
    SECRET_KEY: str | None = None
    LOG_LEVEL = "INFO"
    LOG_FORMAT = "json"
    MAX_CONTENT_LENGTH = 1024 * 1024


class DevelopmentConfig(BaseConfig):
    """Local development: readable logs, and a throwaway secret key when none is set."""

    name = "development"
    LOG_LEVEL = "DEBUG"
    LOG_FORMAT = "console"


class TestingConfig(BaseConfig):
    """The test suite: Flask's testing mode and a throwaway secret key."""

    name = "testing"
    TESTING = True


class ProductionConfig(BaseConfig):
    """Production: every secret comes from the environment, and debug stays off."""

    name = "production"
    required = frozenset({"SECRET_KEY"})


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
    problems: list[str] = []
    for name, parse in config.from_env.items():
        raw = environ.get(name, "")
        if not raw:
            if name in config.required:
                problems.append(f"{name} is not set")
            continue
        try:
            settings[name] = parse(raw)
        except ValueError as error:
            problems.append(f"{name} {error}")
    if config is ProductionConfig and environ.get("FLASK_DEBUG", "").lower() in {"1", "true"}:
        problems.append("FLASK_DEBUG is on; the debugger runs code for anyone who reaches it")
    if problems:
        raise ConfigError(problems, env_name)
    if settings["SECRET_KEY"] is None:
        # Development and tests only (production requires one): valid for this process only.
        settings["SECRET_KEY"] = secrets.token_urlsafe(48)
    settings["APP_ENV"] = env_name
    return settings
