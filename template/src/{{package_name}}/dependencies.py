"""What the service calls out to: a dependency that cannot be reached is a prompt 503.

Each process keeps one circuit breaker per dependency (each server the service calls out
to, by name). A call that cannot connect opens it: for DEPENDENCY_COOLDOWN seconds, calls to
that dependency raise DependencyUnavailableError at once, without touching the network, so
an outage costs a request microseconds instead of a timeout, and no thread waits on it. The
first call after the cooldown goes through as the probe (the others still fail fast): it
closes the breaker if it succeeds, and opens it for another cooldown if not. errors.py
answers DependencyUnavailableError with a JSON 503 and Retry-After, and logs it once.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Final

from flask import Flask, current_app

#: Where each app keeps its breakers, by dependency name.
BREAKERS: Final = "dependency_breakers"


class DependencyUnavailableError(Exception):
    """No connection to the dependency `name` could be had; try again in `retry_after` s."""

    def __init__(self, name: str, retry_after: int, reason: str) -> None:
        super().__init__(f"The {name} is unavailable ({reason})")
        self.name = name
        self.retry_after = retry_after
        self.reason = reason


class Breaker:
    """The circuit breaker of one dependency in one process; threads share it."""

    def __init__(
        self, name: str, cooldown: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.name = name
        self.cooldown = cooldown
        self.clock = clock
        self.lock = threading.Lock()
        #: When calls may go through again; None while the breaker is closed.
        self.open_until: float | None = None
        self.reason = ""

    def check(self) -> None:
        """Raise DependencyUnavailableError while open; past the cooldown, let one call probe."""
        with self.lock:
            if self.open_until is None:
                return
            now = self.clock()
            if now < self.open_until:
                raise self.unavailable(self.open_until - now, f"failing fast: {self.reason}")
            # This call is the probe: the others fail fast until it has told.
            self.open_until = now + self.cooldown

    def failed(self, error: BaseException) -> DependencyUnavailableError:
        """Open the breaker after `error`, and return the exception that says so."""
        reason = f"{type(error).__name__}: {error}".splitlines()[0]
        with self.lock:
            self.open_until = self.clock() + self.cooldown
            self.reason = reason
        return self.unavailable(self.cooldown, reason)

    def succeeded(self) -> None:
        """Close the breaker: the dependency answered."""
        with self.lock:
            self.open_until = None

    def unavailable(self, seconds: float, reason: str) -> DependencyUnavailableError:
        """Return the exception for a call refused for `seconds` more."""
        return DependencyUnavailableError(self.name, max(1, math.ceil(seconds)), reason)

    @contextmanager
    def guard(self, *errors: type[BaseException]) -> Iterator[None]:
        """Run the block unless the breaker is open; `errors` it raises open it, as a 503."""
        self.check()
        try:
            yield
        except errors as error:
            raise self.failed(error) from error
        self.succeeded()


def breaker(app: Flask, name: str) -> Breaker:
    """Return `app`'s breaker for the dependency `name`, made on first use."""
    breakers: dict[str, Breaker] = app.extensions.setdefault(BREAKERS, {})
    found = breakers.get(name)
    if found is None:
        found = breakers.setdefault(name, Breaker(name, app.config["DEPENDENCY_COOLDOWN"]))
    return found


def guard(name: str, *errors: type[BaseException]) -> AbstractContextManager[None]:
    """Call the dependency `name` through the current app's breaker (see Breaker.guard)."""
    return breaker(current_app, name).guard(*errors)
