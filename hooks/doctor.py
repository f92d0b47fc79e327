"""Find the Flask production pitfalls in Python source: `python doctor.py PATH...`.

Each rule names a failure that shows only in production (a thread that touches `request`,
an extension bound at import, state shared between workers, a blocking call in an async
view, a secret in code, a teardown that skips the others, logging set up too late, a
gunicorn configuration that contradicts itself). The analysis reads the code with the
standard library's `ast` and imports nothing it checks, so Copier's post-generation task
can run it, and so can any project: this one file is the whole tool.

Exit status: 0 when nothing is found, 1 when something is, 2 on bad usage or a file that
cannot be read (the other files are still checked). `# doctor: ignore[FD101]` at the end
of a line silences that rule on that line.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import quote

__all__ = ["RULES", "Finding", "Rule", "check_paths", "check_source", "main"]


@dataclass(frozen=True)
class Rule:
    """A pitfall: its id, a one-line reason it matters, and a one-line fix."""

    id: str
    name: str
    why: str
    fix: str


RULES: dict[str, Rule] = {
    rule.id: rule
    for rule in (
        Rule(
            "FD001",
            "syntax-error",
            "Python cannot parse this file, so nothing else in it was checked.",
            "Fix the syntax error; `python -m py_compile FILE` shows it.",
        ),
        Rule(
            "FD101",
            "request-context-in-background",
            "It runs after the request ended or in another thread, where Flask raises "
            '"Working outside of request context".',
            "Read what it needs in the view and pass it as arguments, or wrap it with "
            "flask.copy_current_request_context.",
        ),
        Rule(
            "FD201",
            "extension-bound-at-import",
            "Binding at import shares one app, connection pool and state between tests and "
            "forked workers.",
            "Create the extension unbound (`db = SQLAlchemy()`) and call `db.init_app(app)` "
            "inside create_app.",
        ),
        Rule(
            "FD202",
            "module-level-app-beside-factory",
            "A second app made at import runs with other settings than create_app's, and "
            "importing the module builds it.",
            "Delete the module-level app; let gunicorn and tests call create_app().",
        ),
        Rule(
            "FD301",
            "module-state-mutated-in-view",
            "Each worker process has its own copy and threads race on it: values differ per "
            "request and leak across tests.",
            "Keep shared state in the database, a cache or `g`; keep per-process caches "
            "behind a lock and a bound.",
        ),
        Rule(
            "FD302",
            "mutable-default-in-view",
            "The default is made once and shared by every request that uses it.",
            "Default to None and create the list, dict or set inside the function.",
        ),
        Rule(
            "FD401",
            "blocking-call-in-async",
            "A blocking call holds the event loop: every task on it waits, and under an "
            "async server every request.",
            "Await an async client (asyncio.sleep, httpx.AsyncClient, AsyncSession), or "
            "`await asyncio.to_thread(...)`.",
        ),
        Rule(
            "FD501",
            "hard-coded-secret",
            "A secret in the code is in every clone, image and log of it, and cannot be "
            "rotated without a release.",
            "Read it from the environment with no default, and refuse to start without it.",
        ),
        Rule(
            "FD502",
            "debug-on",
            "Debug mode serves Werkzeug's debugger, which runs any code a visitor types.",
            "Leave debug off in code; use `flask run --debug` on a development machine.",
        ),
        Rule(
            "FD503",
            "dev-server-at-import",
            "The development server starts whenever the module is imported, gunicorn's "
            "workers included.",
            'Serve with gunicorn; keep app.run() under `if __name__ == "__main__":`.',
        ),
        Rule(
            "FD601",
            "teardown-can-raise",
            "Up to Flask 3.1 a raising teardown skips the others (their resources leak); "
            "from 3.2 all run, then the error still fails the request.",
            "Put the handler's body under `try:` / `except Exception:` and log the error.",
        ),
        Rule(
            "FD701",
            "logging-configured-after-app",
            "Flask attached its own handler when the app was made: lines come out twice or "
            "in the wrong format.",
            "Configure logging before Flask(...) is created.",
        ),
        Rule(
            "FD801",
            "preload-with-import-time-resource",
            "With preload_app the master makes it once and every forked worker shares its "
            "sockets and locks.",
            "Create it in create_app or a post_fork hook, or set preload_app = False.",
        ),
        Rule(
            "FD802",
            "workers-fixed-in-container",
            "A fixed count ignores the container's CPU limit: too many workers thrash, too "
            "few waste it.",
            "Read it from the environment, e.g. int(os.environ.get('WEB_CONCURRENCY', 2)).",
        ),
        Rule(
            "FD803",
            "gevent-without-early-patch",
            "Code loaded before gevent patches the standard library keeps blocking sockets, "
            "locks and ssl.",
            "Start the config with `from gevent import monkey; monkey.patch_all()`, or "
            "import nothing else there and leave preload_app off.",
        ),
    )
}

#: try and, from Python 3.11, try/except*: Copier may run this module on 3.10.
TRY_STATEMENTS = (ast.Try, getattr(ast, "TryStar", ast.Try))
#: `# doctor: ignore[FD101, FD301]` silences those rules on its line.
IGNORE_COMMENT = re.compile(r"#\s*doctor:\s*ignore\[([A-Za-z0-9_,\s]+)\]")
#: Folders never searched: virtual environments, caches, version control, build output.
SKIPPED_DIRS = frozenset({"node_modules", "site-packages", "__pycache__", "build", "dist", "venv"})

FLASK_PROXIES = {f"flask.{name}": name for name in ("request", "session", "g", "current_app")}
#: A Celery task pushed into an app context (Flask's pattern) may use `g` and current_app.
REQUEST_PROXIES = {"flask.request": "request", "flask.session": "session"}
CONTEXT_MANAGERS = frozenset({"app_context", "test_request_context", "request_context"})
VIEW_DECORATORS = frozenset(
    {
        "route",
        "get",
        "post",
        "put",
        "patch",
        "delete",
        "before_request",
        "before_app_request",
        "after_request",
        "after_app_request",
        "errorhandler",
        "app_errorhandler",
        "context_processor",
        "app_context_processor",
    }
)
TEARDOWN_DECORATORS = frozenset(
    {"teardown_appcontext", "teardown_request", "teardown_app_request"}
)
VIEW_METHODS = frozenset({"get", "post", "put", "patch", "delete", "dispatch_request"})
MUTATING_METHODS = frozenset(
    {
        "append",
        "appendleft",
        "extend",
        "insert",
        "pop",
        "popitem",
        "remove",
        "clear",
        "update",
        "add",
        "discard",
        "setdefault",
        "sort",
        "reverse",
    }
)
MUTABLE_FACTORIES = frozenset(
    {
        "dict",
        "list",
        "set",
        "bytearray",
        "collections.defaultdict",
        "collections.OrderedDict",
        "collections.Counter",
        "collections.deque",
    }
)
BLOCKING_CALLS = frozenset(
    {
        "time.sleep",
        "urllib.request.urlopen",
        "subprocess.run",
        "subprocess.call",
        "subprocess.check_call",
        "subprocess.check_output",
        "os.system",
        "socket.create_connection",
    }
)
HTTP_VERBS = frozenset({"get", "post", "put", "patch", "delete", "head", "options", "request"})
SESSION_METHODS = frozenset(
    {"execute", "query", "commit", "get", "scalar", "scalars", "flush", "refresh", "merge"}
)
QUERY_METHODS = frozenset(
    {"all", "first", "one", "one_or_none", "get", "get_or_404", "first_or_404", "count"}
)
LOGGING_SETUP = frozenset(
    {"logging.basicConfig", "logging.config.dictConfig", "logging.config.fileConfig"}
)
#: Calls that never raise in a teardown handler (logging swallows its own errors).
SAFE_CALLS = frozenset({"isinstance", "len", "getattr", "hasattr", "callable", "id", "type"})
#: Adding to a list or set never raises: teardown handlers in tests record with these.
CONTAINER_GROWTH = frozenset({"append", "appendleft", "add"})
LOG_METHODS = frozenset({"debug", "info", "warning", "error", "exception", "critical", "log"})
# The one secret vocabulary: the service's config check (its features/__init__.py holds a
# copy, as the service never imports tools/), the post-generation validation (hooks/checks.py
# imports it from here) and doctor. tests/test_hooks.py holds the three to the same words.
#: Names that hold a secret.
SECRET_NAME = re.compile(
    r"secret|passw(or)?d|token|api_?key|private_?key|credential|access_?key|salt", re.IGNORECASE
)
#: Values that show a secret was copied from an example instead of generated.
PLACEHOLDER_SECRETS = frozenset(
    {"changeme", "change-me", "change_me", "secret", "dev", "development", "replace-me"}
    | {"replace_me", "your-secret-key", "your_secret_key", "supersecret", "super-secret"}
    | {"password", "test", "xxx", "todo", "default", "example", "1234", "12345678", "admin"}
)
#: Names that hold where a secret is, or what it is called, rather than the secret.
NOT_A_SECRET = re.compile(
    r"_(name|header|field|file|path|env|var|param|prefix|type|algorithm|location|url|cookie"
    r"|expires?|ttl|age|length|min|max|enabled|title|label|example|sample|placeholder)$",
    re.IGNORECASE,
)


def is_secret_name(name: str) -> bool:
    """Tell whether a setting's name says it holds a secret (not where one is, or its name)."""
    return bool(SECRET_NAME.search(name)) and not NOT_A_SECRET.search(name)


EXAMPLE_NAME = re.compile(r"_(example|sample|placeholder)$", re.IGNORECASE)
#: Settings spelled like environment variables: the only names whose values are checked.
SETTING_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$|^secret_key$")
#: Values that are switches or blanks rather than secrets.
NOT_A_SECRET_VALUE = re.compile(
    r"^(true|false|yes|no|on|off|none|null|\d+|(.)\2*)$", re.IGNORECASE
)
PASSWORD_IN_URL = re.compile(r"^[a-z][a-z0-9+.-]*://[^:/@\s]+:[^@/\s]+@(?P<host>[^:/\s]*)", re.I)
#: A password for a server on this machine is a development default, known to all.
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]"})
GUNICORN_CONFIG = re.compile(r"gunicorn.*\.py$")
CONTAINER_FILES = ("Dockerfile", "Containerfile", "compose.yaml", "docker-compose.yml")
PER_WORKER_RESOURCES = frozenset(
    {
        "sqlalchemy.create_engine",
        "redis.Redis",
        "redis.StrictRedis",
        "redis.from_url",
        "redis.Redis.from_url",
        "psycopg.connect",
        "psycopg2.connect",
        "psycopg_pool.ConnectionPool",
        "sqlite3.connect",
        "pymongo.MongoClient",
        "requests.Session",
        "httpx.Client",
        "concurrent.futures.ThreadPoolExecutor",
        "concurrent.futures.ProcessPoolExecutor",
        "threading.Thread",
        "socket.socket",
    }
)


@dataclass(frozen=True, order=True)
class Finding:
    """One pitfall at one place: `path:line:col RULE message`."""

    path: str
    line: int
    col: int
    rule: str
    message: str

    def as_text(self) -> str:
        """Lay the finding out like ruff: a location line, then why and how to fix."""
        rule = RULES[self.rule]
        return (
            f"{self.path}:{self.line}:{self.col} {self.rule} {self.message}\n"
            f"  why: {rule.why}\n  fix: {rule.fix}"
        )

    def as_json(self) -> dict[str, object]:
        """Return the finding with its rule's name, reason and fix, for --format json."""
        rule = RULES[self.rule]
        return {**asdict(self), "name": rule.name, "why": rule.why, "fix": rule.fix}


def _severity(finding: Finding) -> str:
    """Return how grave a finding is: error, unless the finding or its rule says otherwise."""
    found = getattr(finding, "severity", None) or getattr(RULES[finding.rule], "severity", None)
    return str(found or "error")


def _relative(path: str) -> tuple[str, bool]:
    """Return `path` with forward slashes, below the working directory where it is there."""
    absolute = Path(os.path.abspath(path))
    try:
        return absolute.relative_to(Path.cwd()).as_posix(), True
    except ValueError:
        return absolute.as_posix(), False


def format_text(findings: Sequence[Finding]) -> str:
    """Lay the findings out like ruff, with a count of problems and files at the end."""
    count = len({finding.path for finding in findings})
    summary = f"Found {len(findings)} problem(s) in {count} file(s)." if findings else ""
    return "\n".join([*(finding.as_text() for finding in findings), summary]).strip()


def format_json(findings: Sequence[Finding]) -> str:
    """Lay the findings out as a JSON list of objects, each with its rule's why and fix."""
    return json.dumps([finding.as_json() for finding in findings], indent=2)


#: SARIF's levels and GitHub's workflow commands for doctor's severities.
SARIF_LEVELS = {"error": "error", "warning": "warning"}
GITHUB_COMMANDS = {"error": "error", "warning": "warning"}


def format_sarif(findings: Sequence[Finding]) -> str:
    """Lay the findings out as a SARIF 2.1.0 log, which code scanning shows on the code."""
    rules = [
        {
            "id": rule.id,
            "name": rule.name,
            "shortDescription": {"text": rule.name.replace("-", " ").capitalize()},
            "fullDescription": {"text": rule.why},
            "help": {"text": f"{rule.why}\nFix: {rule.fix}"},
            "defaultConfiguration": {
                "level": SARIF_LEVELS.get(getattr(rule, "severity", "error"), "note")
            },
        }
        for rule in RULES.values()
    ]
    index = {rule.id: number for number, rule in enumerate(RULES.values())}
    results = []
    for finding in findings:
        path, below = _relative(finding.path)
        # Relative to the checkout (code scanning's %SRCROOT%), else an absolute file URI.
        artifact = (
            {"uri": quote(path), "uriBaseId": "%SRCROOT%"}
            if below
            else {"uri": Path(path).as_uri()}
        )
        region = {"startLine": max(finding.line, 1), "startColumn": max(finding.col, 1)}
        results.append(
            {
                "ruleId": finding.rule,
                "ruleIndex": index[finding.rule],
                "level": SARIF_LEVELS.get(_severity(finding), "note"),
                "message": {"text": finding.message},
                "locations": [
                    {"physicalLocation": {"artifactLocation": artifact, "region": region}}
                ],
            }
        )
    log = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {"tool": {"driver": {"name": "flask-doctor", "rules": rules}}, "results": results}
        ],
    }
    return json.dumps(log, indent=2)


def _escape_data(text: str) -> str:
    """Escape a workflow command's message as GitHub's runner reads it back."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    """Escape a workflow command's property, where `:` and `,` end the value too."""
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def format_github(findings: Sequence[Finding]) -> str:
    """Lay the findings out as GitHub Actions annotations, one `::error` command each."""
    lines = []
    for finding in findings:
        rule = RULES[finding.rule]
        properties = {
            "file": _relative(finding.path)[0],
            "line": finding.line,
            "col": finding.col,
            "title": f"{finding.rule} {rule.name}",
        }
        shown = ",".join(
            f"{key}={_escape_property(str(value))}" for key, value in properties.items()
        )
        message = _escape_data(f"{finding.message}\nwhy: {rule.why}\nfix: {rule.fix}")
        command = GITHUB_COMMANDS.get(_severity(finding), "notice")
        lines.append(f"::{command} {shown}::{message}")
    return "\n".join(lines)


#: --format's choices: each lays a list of findings out as one report.
FORMATS: dict[str, Callable[[Sequence[Finding]], str]] = {
    "text": format_text,
    "json": format_json,
    "sarif": format_sarif,
    "github": format_github,
}


@dataclass
class ModuleFacts:
    """What one module tells the rules that look across files."""

    path: str
    package: Path
    flask_at_import: list[ast.Call] = field(default_factory=list)
    defines_factory: bool = False
    resources_at_import: list[tuple[ast.Call, str]] = field(default_factory=list)
    preload_line: int | None = None


def _qualname(node: ast.AST, aliases: dict[str, str]) -> str | None:
    """Return the dotted name `node` refers to, imports resolved, or None for an expression."""
    if isinstance(node, ast.Name):
        return aliases.get(node.id, node.id)
    if isinstance(node, ast.Attribute):
        base = _qualname(node.value, aliases)
        return None if base is None else f"{base}.{node.attr}"
    return None


def _root_name(node: ast.AST) -> str | None:
    """Return the variable at the bottom of `a.b[c].d`, or None for another expression."""
    while isinstance(node, ast.Attribute | ast.Subscript | ast.Call):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def _walk_scope(nodes: Iterable[ast.AST]) -> Iterator[ast.AST]:
    """Yield every node under `nodes` that runs in their scope: nested defs are left out."""
    stack = list(nodes)
    while stack:
        node = stack.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            if not isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                stack.append(child)


def _module_statements(body: list[ast.stmt], *, main_guard: bool = False) -> Iterator[ast.stmt]:
    """Yield the statements that run at import, through if/try/with, not functions."""
    for statement in body:
        if isinstance(statement, ast.If):
            if _is_main_guard(statement.test) and not main_guard:
                continue
            yield from _module_statements(statement.body + statement.orelse)
        elif isinstance(statement, ast.Try):
            handlers = [line for handler in statement.handlers for line in handler.body]
            yield from _module_statements(
                statement.body + handlers + statement.orelse + statement.finalbody
            )
        elif isinstance(statement, ast.With):
            yield from _module_statements(statement.body)
        elif not isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            yield statement


def _is_main_guard(test: ast.expr) -> bool:
    """Tell whether `test` is `__name__ == "__main__"`."""
    return (
        isinstance(test, ast.Compare)
        and isinstance(test.left, ast.Name)
        and test.left.id == "__name__"
        and any(isinstance(c, ast.Constant) and c.value == "__main__" for c in test.comparators)
    )


def _decorator_attr(decorator: ast.expr) -> str | None:
    """Return `route` for `@bp.route(...)` and `before_request` for `@app.before_request`."""
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    if isinstance(target, ast.Attribute):
        return target.attr
    return target.id if isinstance(target, ast.Name) else None


def _is_mutable_literal(node: ast.AST | None, aliases: dict[str, str]) -> bool:
    """Tell whether `node` builds a new list, dict, set or other mutable container."""
    if isinstance(node, ast.List | ast.Dict | ast.Set | ast.ListComp | ast.DictComp | ast.SetComp):
        return True
    return isinstance(node, ast.Call) and _qualname(node.func, aliases) in MUTABLE_FACTORIES


def _is_test_file(path: Path) -> bool:
    """Tell whether `path` is test code, where fake secrets and debug flags are expected."""
    parts = path.parts
    name = parts[-1] if parts else ""
    return "tests" in parts or name.startswith("test_") or name == "conftest.py"


class ModuleChecker:
    """Run every single-file rule over one parsed module."""

    def __init__(self, path: str, tree: ast.Module, package: Path) -> None:
        self.path = path
        self.tree = tree
        self.findings: list[Finding] = []
        self.test_code = False
        self.facts = ModuleFacts(path, package)
        self.aliases: dict[str, str] = {}
        self.imports_flask = False
        # One walk, shared by every rule: walking is most of the analysis's time.
        self.nodes = list(ast.walk(tree))
        for node in self.nodes:
            if isinstance(node, ast.Import):
                for alias in node.names:
                    local = alias.asname or alias.name.partition(".")[0]
                    self.aliases[local] = alias.name if alias.asname else local
                    self.imports_flask |= alias.name.partition(".")[0] == "flask"
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                for alias in node.names:
                    self.aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
                self.imports_flask |= node.module.partition(".")[0] == "flask"
        self.functions: dict[str, list[ast.FunctionDef | ast.AsyncFunctionDef]] = {}
        for node in self.nodes:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                self.functions.setdefault(node.name, []).append(node)
        self.classes = {node.name for node in tree.body if isinstance(node, ast.ClassDef)}
        self.app_names: set[str] = set()
        self.module_names: dict[str, ast.expr] = {}
        for statement in _module_statements(tree.body, main_guard=True):
            value = getattr(statement, "value", None)
            targets = statement.targets if isinstance(statement, ast.Assign) else []
            if isinstance(statement, ast.AnnAssign):
                targets = [statement.target]
            for target in targets:
                if isinstance(target, ast.Name) and value is not None:
                    self.module_names[target.id] = value
                    if self._is_flask(value):
                        self.app_names.add(target.id)

    def add(self, node: ast.AST, rule: str, message: str) -> None:
        """Record a finding of `rule` at `node`'s position."""
        line, col = getattr(node, "lineno", 1), getattr(node, "col_offset", 0) + 1
        self.findings.append(Finding(self.path, line, col, rule, message))

    def qual(self, node: ast.AST) -> str | None:
        """Return the dotted name `node` refers to in this module."""
        return _qualname(node, self.aliases)

    def _is_flask(self, node: ast.AST) -> bool:
        return isinstance(node, ast.Call) and self.qual(node.func) == "flask.Flask"

    def run(self, test_code: bool) -> None:
        """Apply every rule that needs this module only; test code may hold fake secrets."""
        self.check_background()
        self.check_import_time()
        self.check_views()
        self.check_async()
        self.test_code = test_code
        self.check_secrets_and_debug()
        self.check_teardown()
        self.check_logging_order()

    # FD101 -------------------------------------------------------------------------------
    def _targets(
        self, node: ast.expr | None
    ) -> list[ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda]:
        """Return the functions `node` names, unless it is wrapped to carry the context."""
        if isinstance(node, ast.Lambda):
            return [node]
        if isinstance(node, ast.Call):
            name = self.qual(node.func) or ""
            if name.endswith("partial") and node.args:
                return self._targets(node.args[0])
            return []
        # A method handed over as self.work: every method of that name in the module.
        if isinstance(node, ast.Attribute) and _root_name(node) in {"self", "cls"}:
            node = ast.Name(node.attr)
        if isinstance(node, ast.Name):
            return [
                function
                for function in self.functions.get(node.id, [])
                if not any(
                    _decorator_attr(d) == "copy_current_request_context"
                    for d in function.decorator_list
                )
            ]
        return []

    def _handoffs(self) -> Iterator[tuple[ast.expr | None, str, dict[str, str]]]:
        """Yield (the function handed over, where it runs, the proxies it may not use)."""
        for node in self.nodes:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                if any(self._is_task_decorator(d) for d in node.decorator_list):
                    yield ast.Name(node.name), "a Celery task", REQUEST_PROXIES
                continue
            if not isinstance(node, ast.Call):
                continue
            name = self.qual(node.func) or ""
            keywords = {keyword.arg: keyword.value for keyword in node.keywords}
            attr = node.func.attr if isinstance(node.func, ast.Attribute) else ""
            if name == "threading.Thread":
                target = keywords.get("target", node.args[1] if len(node.args) > 1 else None)
                yield target, "a thread", FLASK_PROXIES
            elif name == "threading.Timer":
                target = keywords.get("function", node.args[1] if len(node.args) > 1 else None)
                yield target, "a timer thread", FLASK_PROXIES
            elif name == "asyncio.to_thread" and node.args:
                yield node.args[0], "asyncio.to_thread", FLASK_PROXIES
            elif attr == "run_in_executor" and len(node.args) > 1:
                yield node.args[1], "an executor", FLASK_PROXIES
            elif attr in {"submit", "map", "starmap", "imap", "imap_unordered"} and node.args:
                yield node.args[0], f"an executor's {attr}", FLASK_PROXIES
            elif attr in {"delay", "apply_async"} and isinstance(node.func, ast.Attribute):
                yield node.func.value, f"a Celery worker ({attr})", REQUEST_PROXIES

    def _is_task_decorator(self, decorator: ast.expr) -> bool:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        name = self.qual(target) or ""
        return name.endswith(".task") or name.rpartition(".")[2] == "shared_task"

    def check_background(self) -> None:
        """FD101: request, session, g or current_app used where no request context is."""
        seen: set[tuple[int, int]] = set()
        for target, where, proxies in self._handoffs():
            for function in self._targets(target):
                body: list[ast.AST] = (
                    [function.body] if isinstance(function, ast.Lambda) else list(function.body)
                )
                for use in self._context_uses(body, proxies):
                    position = (use.lineno, use.col_offset)
                    if position in seen:
                        continue
                    seen.add(position)
                    name = getattr(function, "name", "a lambda")
                    proxy = proxies[self.qual(use) or ""]
                    self.add(use, "FD101", f"`{proxy}` used in `{name}`, which runs in {where}")

    def _context_uses(self, body: list[ast.AST], proxies: dict[str, str]) -> Iterator[ast.expr]:
        """Yield uses of `proxies` in `body` that no app or request context surrounds."""
        stack = list(body)
        while stack:
            node = stack.pop()
            if isinstance(node, ast.With | ast.AsyncWith) and any(
                isinstance(item.context_expr, ast.Call)
                and isinstance(item.context_expr.func, ast.Attribute)
                and item.context_expr.func.attr in CONTEXT_MANAGERS
                for item in node.items
            ):
                continue
            if isinstance(node, ast.Name | ast.Attribute) and self.qual(node) in proxies:
                yield node
                continue
            stack.extend(ast.iter_child_nodes(node))

    # FD201, FD202, FD503, FD801 facts --------------------------------------------------------
    def check_import_time(self) -> None:
        """FD201 and FD503 here; note what FD202 and FD801 need from this module."""
        for statement in _module_statements(self.tree.body):
            for node in _walk_scope([statement]):
                if not isinstance(node, ast.Call):
                    continue
                name = self.qual(node.func) or ""
                if name == "flask.Flask":
                    self.facts.flask_at_import.append(node)
                if name in PER_WORKER_RESOURCES:
                    self.facts.resources_at_import.append((node, name))
                self._check_bound_at_import(node, name)
                if (
                    isinstance(node.func, ast.Attribute)
                    and node.func.attr == "run"
                    and isinstance(node.func.value, ast.Name)
                    and node.func.value.id in self.app_names | {"app", "application"}
                    and isinstance(statement, ast.Expr)
                ):
                    self.add(node, "FD503", f"`{node.func.value.id}.run()` runs at import")
        for functions in self.functions.values():
            for function in functions:
                if any(self._is_flask(node) for node in _walk_scope(function.body)):
                    self.facts.defines_factory = True

    def _check_bound_at_import(self, node: ast.Call, name: str) -> None:
        arguments = [*node.args, *(keyword.value for keyword in node.keywords)]
        app_arguments = [
            a for a in arguments if isinstance(a, ast.Name) and a.id in self.app_names
        ]
        if isinstance(node.func, ast.Attribute) and node.func.attr == "init_app" and node.args:
            self.add(node, "FD201", f"`{ast.unparse(node.func)}(...)` binds the app at import")
        elif app_arguments and name.rpartition(".")[2][:1].isupper() and name != "flask.Flask":
            self.add(
                node,
                "FD201",
                f"`{name.rpartition('.')[2]}({app_arguments[0].id})` binds the app at import",
            )

    # FD301, FD302 ------------------------------------------------------------------------
    def _views(self) -> Iterator[ast.FunctionDef | ast.AsyncFunctionDef]:
        registered = {
            keyword.value.id
            for node in self.nodes
            if isinstance(node, ast.Call)
            for keyword in node.keywords
            if keyword.arg == "view_func" and isinstance(keyword.value, ast.Name)
        }
        for node in self.nodes:
            if isinstance(node, ast.ClassDef) and any(
                (self.qual(base) or "").endswith("View") for base in node.bases
            ):
                for method in node.body:
                    if isinstance(method, ast.FunctionDef | ast.AsyncFunctionDef) and (
                        method.name in VIEW_METHODS
                    ):
                        yield method
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and (
                node.name in registered
                or any(
                    isinstance(d.func if isinstance(d, ast.Call) else d, ast.Attribute)
                    and _decorator_attr(d) in VIEW_DECORATORS
                    for d in node.decorator_list
                )
            ):
                yield node

    def check_views(self) -> None:
        """FD301: module state changed by a view; FD302: a mutable default on a view."""
        shared = {
            name
            for name, value in self.module_names.items()
            if _is_mutable_literal(value, self.aliases)
            or name in self.app_names
            or (isinstance(value, ast.Call) and self.qual(value.func) in self.classes)
        }
        for view in self._views():
            arguments = view.args
            for default in [*arguments.defaults, *arguments.kw_defaults]:
                if default is not None and _is_mutable_literal(default, self.aliases):
                    self.add(default, "FD302", f"view `{view.name}` has a mutable default")
            declared = {
                n
                for node in _walk_scope(view.body)
                if isinstance(node, ast.Global)
                for n in node.names
            }
            local = {
                a.arg for a in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]
            }
            local |= {
                node.id
                for node in _walk_scope(view.body)
                if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)
            } - declared
            for node in _walk_scope(view.body):
                name = self._mutated_module_name(node, shared - local, declared)
                if name is not None:
                    self.add(node, "FD301", f"view `{view.name}` changes module-level `{name}`")

    def _mutated_module_name(
        self, node: ast.AST, shared: set[str], declared: set[str]
    ) -> str | None:
        """Return the module-level name `node` changes, or None."""
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            root = _root_name(node.func.value)
            if node.func.attr in MUTATING_METHODS and root in shared:
                return root
            return None
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign | ast.Delete):
            targets = node.targets
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets = [node.target]
        for target in targets:
            if isinstance(target, ast.Name) and target.id in declared:
                return target.id
            if isinstance(target, ast.Subscript | ast.Attribute):
                root = _root_name(target)
                if root in shared or root in declared:
                    return root
        return None

    # FD401 -------------------------------------------------------------------------------
    def check_async(self) -> None:
        """FD401: a blocking call inside an async def of a Flask module."""
        if not self.imports_flask:
            return
        for node in self.nodes:
            if not isinstance(node, ast.AsyncFunctionDef):
                continue
            scope = list(_walk_scope(node.body))
            awaited = {id(n.value) for n in scope if isinstance(n, ast.Await)}
            for call in scope:
                if isinstance(call, ast.Call) and id(call) not in awaited:
                    blocking = self._blocking(call)
                    if blocking:
                        self.add(call, "FD401", f"`{blocking}` blocks inside async `{node.name}`")

    def _blocking(self, call: ast.Call) -> str | None:
        name = self.qual(call.func) or ""
        module, _, attr = name.rpartition(".")
        if name in BLOCKING_CALLS:
            return name
        if module == "requests" or (module == "httpx" and attr in HTTP_VERBS):
            return name
        if not isinstance(call.func, ast.Attribute):
            return None
        attr = call.func.attr
        receiver = self.qual(call.func.value) or ""
        if (
            attr in SESSION_METHODS
            and receiver.endswith(".session")
            and receiver != "flask.session"
        ):
            return f"{ast.unparse(call.func)}()"
        chain = ast.unparse(call.func.value)
        if attr in QUERY_METHODS and re.search(r"\.query\b", chain):
            return f"{ast.unparse(call.func)}()"
        return None

    # FD501, FD502 ------------------------------------------------------------------------
    def check_secrets_and_debug(self) -> None:
        """FD501: a secret written in the code; FD502: debug switched on in code."""
        module_level = set(map(id, _module_statements(self.tree.body, main_guard=True)))
        class_level = {
            id(statement)
            for node in self.nodes
            if isinstance(node, ast.ClassDef)
            for statement in node.body
        }
        for node in self.nodes:
            if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    key = self._config_key(target, id(node) in module_level | class_level)
                    if key is not None:
                        self._check_value(key, node.value, target)
            elif isinstance(node, ast.Dict):
                for key_node, value in zip(node.keys, node.values, strict=True):
                    if isinstance(key_node, ast.Constant) and isinstance(key_node.value, str):
                        self._check_value(key_node.value, value, key_node)
            elif isinstance(node, ast.Call):
                for keyword in node.keywords:
                    if keyword.arg is None:
                        continue
                    if keyword.arg == "debug" and self._is_true(keyword.value):
                        if not self.test_code:
                            self.add(keyword.value, "FD502", "`debug=True`")
                    elif keyword.arg.isupper():
                        self._check_value(keyword.arg, keyword.value, keyword.value)
                self._check_env_default(node)

    def _config_key(self, target: ast.expr, outside_functions: bool) -> str | None:
        """Return the setting a target names: NAME at module or class level, x.name, x["NAME"]."""
        if isinstance(target, ast.Name):
            return target.id if outside_functions else None
        if isinstance(target, ast.Attribute):
            return target.attr
        if isinstance(target, ast.Subscript):
            key = target.slice
            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                return key.value
        return None

    @staticmethod
    def _is_true(node: ast.AST) -> bool:
        return isinstance(node, ast.Constant) and node.value is True

    def _check_value(self, key: str, value: ast.expr, at: ast.AST) -> None:
        if key.upper() == "DEBUG" and self._is_true(value) and not self.test_code:
            self.add(at, "FD502", f"`{key}` is set to True")
        literal = value.value if isinstance(value, ast.Constant) else None
        if not isinstance(literal, str | bytes) or not literal:
            return
        text = literal if isinstance(literal, str) else literal.decode("latin-1")
        if self.test_code:
            # Tests may hold made-up secrets; a well-known placeholder is copied, not made up.
            if is_secret_name(key) and text.strip().casefold() in PLACEHOLDER_SECRETS:
                message = f"`{key}` is a placeholder: build test secrets at run time"
                self.add(at, "FD501", f"{message}, e.g. with secrets.token_urlsafe()")
            return
        url = PASSWORD_IN_URL.match(text)
        if url and url.group("host") not in LOOPBACK_HOSTS and not EXAMPLE_NAME.search(key):
            self.add(at, "FD501", f"`{key}` holds a URL with a password in it")
        elif not url and (
            SETTING_NAME.match(key)
            and is_secret_name(key)
            and not NOT_A_SECRET_VALUE.match(text)
            # RESET_PASSWORD = "reset_password" names a kind of token, it is not one.
            and text.lower().replace("-", "_") != key.lower()
        ):
            self.add(at, "FD501", f"`{key}` is set to a literal")

    def _check_env_default(self, call: ast.Call) -> None:
        """FD501 for `os.environ.get("SECRET_KEY", "dev")`: the fallback is a secret too."""
        if self.qual(call.func) not in {"os.environ.get", "os.getenv"} or len(call.args) < 2:
            return
        name, default = call.args[0], call.args[1]
        if isinstance(name, ast.Constant) and isinstance(name.value, str):
            self._check_value(name.value, default, default)

    # FD601 -------------------------------------------------------------------------------
    def check_teardown(self) -> None:
        """FD601: a teardown handler with a call or raise outside try/except."""
        handlers: list[ast.FunctionDef | ast.AsyncFunctionDef] = []
        for node in self.nodes:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                if any(_decorator_attr(d) in TEARDOWN_DECORATORS for d in node.decorator_list):
                    handlers.append(node)
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in TEARDOWN_DECORATORS
                and node.args
                and isinstance(node.args[0], ast.Name)
            ):
                handlers += self.functions.get(node.args[0].id, [])
        for handler in dict.fromkeys(handlers):
            risky = self._first_unguarded(handler.body)
            if risky is not None:
                self.add(risky, "FD601", f"teardown `{handler.name}` can raise here")

    def _first_unguarded(self, body: list[ast.stmt]) -> ast.AST | None:
        """Return the first call or raise in `body` that no except clause catches."""
        risky: list[ast.stmt | ast.expr] = []
        stack: list[ast.AST] = list(reversed(body))
        while stack:
            node = stack.pop()
            if isinstance(node, TRY_STATEMENTS) and node.handlers:
                stack.extend(reversed([*node.orelse, *node.finalbody]))
                continue
            if isinstance(node, ast.With) and any(
                (self.qual(item.context_expr.func) or "").endswith("suppress")
                for item in node.items
                if isinstance(item.context_expr, ast.Call)
            ):
                continue
            if isinstance(node, ast.Raise) or (
                isinstance(node, ast.Call) and not self._safe(node)
            ):
                risky.append(node)
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                stack.extend(reversed(list(ast.iter_child_nodes(node))))
        return min(risky, key=lambda n: (n.lineno, n.col_offset), default=None)

    def _safe(self, call: ast.Call) -> bool:
        name = self.qual(call.func) or ""
        if name in SAFE_CALLS:
            return True
        if isinstance(call.func, ast.Attribute):
            attr, receiver = call.func.attr, (self.qual(call.func.value) or "").lower()
            if attr in LOG_METHODS and ("log" in receiver):
                return True
            if attr in {"pop", "get"}:
                return len(call.args) == 2
            return attr in CONTAINER_GROWTH
        return False

    # FD701 -------------------------------------------------------------------------------
    def _receives_app(self, function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
        """Tell whether `function` is handed an app that exists already (`app` or `: Flask`)."""
        arguments = [*function.args.posonlyargs, *function.args.args, *function.args.kwonlyargs]
        return any(
            argument.arg == "app"
            or (
                argument.annotation is not None and self.qual(argument.annotation) == "flask.Flask"
            )
            for argument in arguments
        )

    def check_logging_order(self) -> None:
        """FD701: logging.basicConfig or dictConfig after Flask(...) in the same scope."""
        functions = [f for fs in self.functions.values() for f in fs]
        for body, app_made in [(self.tree.body, False)] + [
            (f.body, self._receives_app(f)) for f in functions
        ]:
            for statement in body:
                if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                    continue
                calls = [n for n in _walk_scope([statement]) if isinstance(n, ast.Call)]
                for call in sorted(calls, key=lambda n: (n.lineno, n.col_offset)):
                    name = self.qual(call.func)
                    if app_made and name in LOGGING_SETUP:
                        self.add(call, "FD701", f"`{name}` once the Flask app exists")
                    app_made |= name == "flask.Flask"


#: Libraries that bind ssl, sockets or locks when imported: gevent must patch before them.
PATCH_SENSITIVE = frozenset(
    {
        "requests",
        "urllib3",
        "httpx",
        "sentry_sdk",
        "redis",
        "psycopg",
        "psycopg2",
        "pymongo",
        "boto3",
        "botocore",
        "grpc",
        "kombu",
        "celery",
        "pika",
        "elasticsearch",
    }
)


def _gunicorn_checks(path: Path, shown: str, tree: ast.Module) -> tuple[list[Finding], int | None]:
    """FD802 and FD803 for one gunicorn config; return them and preload_app's line."""
    findings: list[Finding] = []
    settings: dict[str, ast.Assign] = {}
    first_sensitive_import: ast.stmt | None = None
    patched = False
    for statement in tree.body:
        if isinstance(statement, ast.Assign):
            for target in statement.targets:
                if isinstance(target, ast.Name):
                    settings[target.id] = statement
        modules: list[str] = []
        if isinstance(statement, ast.Import):
            modules = [alias.name for alias in statement.names]
        elif isinstance(statement, ast.ImportFrom) and statement.module and not statement.level:
            modules = [statement.module]
        for module in modules:
            top = module.partition(".")[0]
            if top in PATCH_SENSITIVE and first_sensitive_import is None and not patched:
                first_sensitive_import = statement
        if "patch_all" in ast.unparse(statement) and isinstance(statement, ast.Expr):
            patched = True

    def constant(name: str) -> object:
        statement = settings.get(name)
        value = statement.value if statement else None
        if isinstance(value, ast.Call) and len(value.args) > 1:
            value = value.args[1]  # os.environ.get("NAME", default)
        return value.value if isinstance(value, ast.Constant) else None

    preload = settings["preload_app"].lineno if constant("preload_app") is True else None
    workers = settings.get("workers")
    folders = (path.parent, *path.parent.parents)[:3]
    in_container = any((folder / name).exists() for folder in folders for name in CONTAINER_FILES)
    fixed = workers.value.value if workers and isinstance(workers.value, ast.Constant) else None
    if workers and isinstance(fixed, int) and in_container:
        message = f"`workers = {fixed}` in a container"
        findings.append(Finding(shown, workers.lineno, 1, "FD802", message))
    worker_class = constant("worker_class")
    if isinstance(worker_class, str) and "gevent" in worker_class and not patched:
        reason = "preload_app loads the app" if preload else None
        if first_sensitive_import is not None:
            reason = f"line {first_sensitive_import.lineno} imports a library that binds sockets"
        if reason:
            line = settings["worker_class"].lineno
            findings.append(
                Finding(
                    shown, line, 1, "FD803", f"gevent workers, but {reason} before gevent patches"
                )
            )
    return findings, preload


def _package_of(path: Path) -> Path:
    """Return the top folder of the package holding `path`, or the file itself outside one."""
    package = path
    while (package.parent / "__init__.py").exists():
        package = package.parent
    return package


def check_source(
    text: str,
    path: str = "<string>",
    *,
    real_path: Path | None = None,
    test_code: bool | None = None,
) -> tuple[list[Finding], ModuleFacts]:
    """Check one module's source; return its findings and what cross-file rules need."""
    file = real_path or Path(path)
    try:
        tree = ast.parse(text, filename=path)
    except SyntaxError as error:
        finding = Finding(
            path, error.lineno or 1, error.offset or 1, "FD001", f"cannot parse: {error.msg}"
        )
        return [finding], ModuleFacts(path, file)
    checker = ModuleChecker(path, tree, _package_of(file.resolve()) if real_path else file)
    checker.run(_is_test_file(file) if test_code is None else test_code)
    findings = checker.findings
    if GUNICORN_CONFIG.search(file.name):
        gunicorn, checker.facts.preload_line = _gunicorn_checks(file.resolve(), path, tree)
        findings += gunicorn
    return findings, checker.facts


def _cross_file(facts: list[ModuleFacts]) -> list[Finding]:
    """FD202 and FD801: rules that need to see the whole package or the gunicorn config."""
    findings = []
    factories = {fact.package for fact in facts if fact.defines_factory}
    for fact in facts:
        if fact.package in factories:
            for node in fact.flask_at_import:
                findings.append(
                    Finding(
                        fact.path,
                        node.lineno,
                        node.col_offset + 1,
                        "FD202",
                        "`Flask(...)` at import in a package that has an app factory",
                    )
                )
    preloads = [(fact.path, fact.preload_line) for fact in facts if fact.preload_line]
    for config, line in preloads[:1]:
        for fact in facts:
            for node, name in fact.resources_at_import:
                findings.append(
                    Finding(
                        fact.path,
                        node.lineno,
                        node.col_offset + 1,
                        "FD801",
                        f"`{name}(...)` at import, with preload_app in {config}:{line}",
                    )
                )
    return findings


def _python_files(paths: Iterable[Path]) -> Iterator[tuple[Path, Path]]:
    """Yield each Python file under `paths` with its path below the one given."""
    for path in paths:
        if path.is_file():
            yield path, Path(path.name)
            continue
        for child in sorted(path.rglob("*.py")):
            relative = child.relative_to(path)
            if not any(part.startswith(".") or part in SKIPPED_DIRS for part in relative.parts):
                yield child, relative


def iter_python_files(paths: Iterable[Path]) -> Iterator[Path]:
    """Yield the Python files under `paths`, leaving out hidden folders and environments."""
    for file, _ in _python_files(paths):
        yield file


def _ignored(lines: Sequence[str], finding: Finding) -> bool:
    """Tell whether the finding's line carries `# doctor: ignore[...]` for its rule."""
    if not 0 < finding.line <= len(lines):
        return False
    match = IGNORE_COMMENT.search(lines[finding.line - 1])
    return match is not None and finding.rule in re.split(r"[\s,]+", match.group(1).strip())


def check_paths(paths: Iterable[Path], errors: list[str] | None = None) -> list[Finding]:
    """Check every Python file under `paths`; note unreadable ones in `errors`."""
    findings: list[Finding] = []
    facts: list[ModuleFacts] = []
    sources: dict[str, list[str]] = {}
    for file, relative in _python_files(paths):
        shown = str(file)
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            if errors is not None:
                errors.append(f"{shown}: cannot read: {error}")
            continue
        sources[shown] = text.splitlines()
        # Whether it is test code is read below the folder given, not from the whole path.
        found, fact = check_source(text, shown, real_path=file, test_code=_is_test_file(relative))
        findings += found
        facts.append(fact)
    findings += _cross_file(facts)
    return sorted(f for f in set(findings) if not _ignored(sources.get(f.path, []), f))


def _rule_ids(values: Sequence[str]) -> set[str]:
    """Split `FD101,FD301` options into ids; raise ValueError naming an unknown one."""
    ids = {part.strip().upper() for value in values for part in value.split(",") if part.strip()}
    unknown = sorted(ids - RULES.keys())
    if unknown:
        raise ValueError(f"unknown rule id {', '.join(unknown)}; known: {', '.join(RULES)}")
    return ids


def run(
    paths: Sequence[Path],
    select: Sequence[str] = (),
    ignore: Sequence[str] = (),
    output: str = "text",
) -> tuple[str, list[str], int]:
    """Check `paths`; return the report, the messages for stderr and the exit status."""
    try:
        selected = _rule_ids(select) or set(RULES)
        selected -= _rule_ids(ignore)
    except ValueError as error:
        return "", [str(error)], 2
    missing = [str(path) for path in paths if not path.exists()]
    if missing:
        return "", [f"no such file or folder: {', '.join(missing)}"], 2
    errors: list[str] = []
    findings = [f for f in check_paths(paths, errors) if f.rule in selected]
    return FORMATS[output](findings), errors, 2 if errors else int(bool(findings))


def main(argv: Sequence[str] | None = None) -> int:
    """Run doctor from the command line and return its exit status."""
    parser = argparse.ArgumentParser(prog="doctor", description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    parser.add_argument("--format", choices=tuple(FORMATS), default="text")
    parser.add_argument("--select", action="append", default=[], help="only these rule ids")
    parser.add_argument("--ignore", action="append", default=[], help="not these rule ids")
    args = parser.parse_args(argv)
    report, errors, status = run(args.paths, args.select, args.ignore, args.format)
    if report:
        print(report)
    for error in errors:
        print(f"doctor: {error}", file=sys.stderr)
    return status


if __name__ == "__main__":
    raise SystemExit(main())
