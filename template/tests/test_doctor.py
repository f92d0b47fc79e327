"""tools/doctor.py: the service stays free of the Flask production pitfalls doctor knows."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCTOR = ROOT / "tools" / "doctor.py"


def doctor(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """Run doctor as the pre-commit hook and `make lint` do."""
    return subprocess.run(
        [sys.executable, str(DOCTOR), *args], cwd=cwd, capture_output=True, text=True, check=False
    )


def test_the_service_has_none_of_the_pitfalls() -> None:
    result = doctor(".")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""


def test_a_pitfall_added_later_is_found(tmp_path: Path) -> None:
    # What an owner might add months from now: a thread that reads the request.
    (tmp_path / "report.py").write_text(
        "import threading\n"
        "from flask import request\n\n\n"
        "def send() -> None:\n"
        "    print(request.path)\n\n\n"
        "def view() -> None:\n"
        "    threading.Thread(target=send).start()\n"
    )
    result = doctor("--format", "json", str(tmp_path))
    assert result.returncode == 1, result.stderr
    (finding,) = json.loads(result.stdout)
    assert (finding["rule"], finding["line"]) == ("FD101", 6)
