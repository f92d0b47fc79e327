"""What a test needs from the machine: skipped visibly where it is missing, failed in CI."""

from __future__ import annotations

import os
import shutil
from typing import NoReturn

import pytest


def missing(reason: str) -> NoReturn:
    """Skip visibly, or fail in CI (`CI` set, as .ci/run sets it), which must run the test."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI must run this test)")
    pytest.skip(reason)


def server_binary(name: str) -> str:
    """Return Debian's `name` server binary: on PATH, or in /usr/sbin (not on a user's PATH)."""
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/local/sbin")
    if found is None:
        missing(f"no {name} (Debian: apt-get install {name}; .ci/run installs it)")
    return found
