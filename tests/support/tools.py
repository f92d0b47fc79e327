"""What a test needs from the machine: skipped visibly where it is missing, failed in CI."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def missing(reason: str) -> NoReturn:
    """Skip visibly, or fail in CI (`CI` set, as .ci/run sets it), which must run the test."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI must run this test)")
    pytest.skip(reason)
