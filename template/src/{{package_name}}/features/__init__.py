"""The optional features this service was generated with: one module each, in this folder.

A feature declares what the rest of the service needs to know about it, so that no core
module names it: the settings it reads (config.py checks them with every other), the settings
it derives from them, and how it binds to an app (create_app calls it). Where two features
meet, in a job worker, say, they meet through a shared signal either side may connect to,
never by naming each other.

A module here imports nothing of the service at its top but this folder's vocabulary below:
declaring a feature costs nothing, and binding it imports what it needs then.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any, Final

from blinker import Namespace

if TYPE_CHECKING:
    from flask import Flask

#: Secret values that show a setting was copied from an example, not generated: the words
#: of tools/doctor.py's PLACEHOLDER_SECRETS, which the template's tests hold this copy to.
PLACEHOLDER_SECRETS: Final = frozenset(
    {"changeme", "change-me", "change_me", "secret", "dev", "development", "replace-me"}
    | {"replace_me", "your-secret-key", "your_secret_key", "supersecret", "super-secret"}
    | {"password", "test", "xxx", "todo", "default", "example", "1234", "12345678", "admin"}
)
#: Every APP_ENV: a setting required in each of them.
EVERY_ENVIRONMENT: Final = frozenset({"development", "testing", "production"})
SWITCHES: Final = {"1": True, "true": True, "yes": True, "on": True}
SWITCHES.update({"0": False, "false": False, "no": False, "off": False})


# Moments where features meet, named for what happens, never for the feature that sends them:
# the job queue's module sends them, and any feature may connect to them.
_moments = Namespace()
#: A process that runs jobs, not requests, starts; before it forks any. Sender: the settings.
job_worker_starting = _moments.signal("job-worker-starting")
#: That process is ready: its pool runs. Sender: the settings.
job_worker_ready = _moments.signal("job-worker-ready")
#: A job starts in this process. Sender: its name; `system` names the job queue.
job_started = _moments.signal("job-started")
#: A job ended. Sender: its name; `system`, `outcome` (succeeded, failed, retried, ...),
#: `seconds` it ran.
job_ended = _moments.signal("job-ended")
#: This process ends without running atexit (a pool process's os._exit). Sender: its pid.
process_ending = _moments.signal("process-ending")


def whole_number(value: str) -> int:
    """Read a whole number."""
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"must be a whole number, not {value!r}") from None


def positive_int(value: str) -> int:
    """Read a whole number above zero."""
    number = whole_number(value)
    if number <= 0:
        raise ValueError("must be greater than zero")
    return number


def not_negative_int(value: str) -> int:
    """Read a whole number of zero or more."""
    number = whole_number(value)
    if number < 0:
        raise ValueError("must be zero or more")
    return number


def switch(value: str) -> bool:
    """Read true or false, as 1/0, yes/no and on/off too."""
    word = value.strip().lower()
    if word not in SWITCHES:
        raise ValueError("must be true or false (also 1/0, yes/no, on/off)")
    return SWITCHES[word]


def port(value: str) -> int:
    """Read a TCP port number."""
    number = whole_number(value)
    if not 1 <= number <= 65535:
        raise ValueError("must be a port number from 1 to 65535")
    return number


def per_request(settings: Mapping[str, Any], shared: int) -> int:
    """Return the connections a process's pool needs: one per request it serves at once.

    Its threads (1 for a sync worker); a gevent worker's greenlets, which may number 1,000,
    share `shared` of them, or fewer where it runs fewer. config.py sets WORKER_THREADS and
    WORKER_GREENLETS from the variables the server reads.
    """
    threads: int = settings["WORKER_THREADS"]
    greenlets: int = settings["WORKER_GREENLETS"]
    return min(greenlets, shared) if greenlets else threads


def no_problems(settings: Mapping[str, Any], env_name: str) -> list[str]:
    """Find nothing wrong between settings."""
    return []


def nothing_derived(settings: Mapping[str, Any]) -> dict[str, Any]:
    """Derive no setting."""
    return {}


def nothing_to_bind(app: Flask) -> None:
    """Bind nothing."""


class ServerHooks:
    """What a feature does in gunicorn's master, one method per gunicorn hook it needs."""

    def on_starting(self, server: Any) -> None:
        """Prepare what the workers will share, before the first one starts."""

    def child_exit(self, server: Any, worker: Any) -> None:
        """Clean up after a worker that ended."""

    def on_exit(self, server: Any) -> None:
        """Remove what the master made."""


@dataclass(frozen=True)
class Setting:
    """An environment variable a feature reads, with its check and its defaults."""

    name: str
    #: Turns the variable's text into the value, or raises ValueError saying what to write.
    parse: Callable[[str], object]
    #: The value where the variable is unset (production's, and every other's unless named).
    default: object = None
    #: Other defaults, by APP_ENV.
    defaults: Mapping[str, object] = field(default_factory=dict)
    #: The APP_ENVs that refuse to start without it.
    required_in: frozenset[str] = frozenset()
    #: Whether its value is a credential: never logged, never shown.
    secret: bool = False

    def default_in(self, env_name: str) -> object:
        """Return the value this setting has in `env_name` when the variable is unset."""
        return self.defaults.get(env_name, self.default)


@dataclass(frozen=True)
class Feature:
    """An optional feature, as the core sees it."""

    name: str
    settings: tuple[Setting, ...] = ()
    #: What is wrong between its settings, which each look right alone.
    problems: Callable[[Mapping[str, Any], str], list[str]] = no_problems
    #: Settings made from the checked ones (a library's own, say).
    derived: Callable[[Mapping[str, Any]], dict[str, Any]] = nothing_derived
    #: Binds it to an app; create_app calls it.
    init_app: Callable[[Flask], None] = nothing_to_bind
    #: Paths that are no traffic (a scrape, say): never traced.
    quiet_paths: tuple[str, ...] = ()
    #: What it does in gunicorn's master; gunicorn.conf.py makes them when it is read.
    server_hooks: Callable[[], ServerHooks] = ServerHooks
    #: When create_app binds it, lowest first: tracing comes before what it traces.
    order: int = 50


@cache
def enabled() -> tuple[Feature, ...]:
    """Return the feature each module of this folder declares, in binding order."""
    names = sorted(module.name for module in pkgutil.iter_modules(__path__))
    found = [importlib.import_module(f"{__name__}.{name}").FEATURE for name in names]
    return tuple(sorted(found, key=lambda feature: feature.order))


def quiet_paths() -> tuple[str, ...]:
    """Return the paths every feature says are no traffic."""
    return tuple(path for feature in enabled() for path in feature.quiet_paths)


def settings() -> tuple[Setting, ...]:
    """Return every setting of every feature."""
    return tuple(setting for feature in enabled() for setting in feature.settings)
