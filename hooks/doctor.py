"""Find the Flask production pitfalls in Python source: `python doctor.py PATH...`.

Each rule names a failure that shows only in production (a thread that touches `request`,
an extension bound at import, state shared between workers, a cache that grows with every
request, a blocking call in an async view, a secret in code, a teardown that skips the
others, logging set up too late, a gunicorn configuration that contradicts itself). The
analysis reads the code with the standard library's `ast` and imports nothing it checks, so
Copier's post-generation task can run it, and so can any project: this one file is the
whole tool.

Configuration: [tool.flask-doctor] in pyproject.toml (exclude, default-exclude, select,
ignore, per-file-ignores, severity, baseline); by default examples/, a root docs/, Jinja
templates and, in tests, the rules about production are skipped. A comment silences rules
on its line: `# doctor: ignore[FD101]`, `# noqa: FD101`, and ruff's and bandit's codes for
the same pitfall (`# noqa: S105`, `# nosec B105` for FD501). docs/doctor.md says more.

Exit status: 0 when no finding of severity error is found (warnings and findings in the
--baseline do not fail), 1 when one is, 2 on bad usage or configuration, or a file that
cannot be read (the other files are still checked). A file this Python cannot parse is a
limit of the run, said once on stderr with the version it needs; `--strict` makes it exit 2.
"""

from __future__ import annotations

import argparse
import ast
import fnmatch
import json
import os
import re
import shutil
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from functools import cached_property
from pathlib import Path, PurePath
from urllib.parse import quote

# difflib, hashlib and subprocess are imported where they are used (an unknown key, a
# baseline, a file that does not parse): a run that needs none starts 20 % sooner, and doctor
# runs at every commit.

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
            "FD304",
            "unbounded-cache",
            "An unbounded cache keeps one entry per distinct request value for the worker's "
            "life: memory grows with traffic until the worker is killed.",
            "Bound it (`lru_cache(maxsize=1024)`, cachetools.TTLCache), or cache in Redis with "
            "an expiry.",
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
            "logging-configured-after-app-logger",
            "Reading app.logger first gave it Flask's own handler: after basicConfig each "
            "line prints twice; dictConfig or fileConfig disable it, and its lines are lost.",
            "Configure logging before anything reads app.logger (first in create_app or the "
            "entry point), or remove flask.logging.default_handler from it.",
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
#: ruff's and flake8's noqa comment, with codes (`noqa: FD101, S105`) or bare: every rule.
NOQA_COMMENT = re.compile(r"#\s*noqa(?::\s*(?P<codes>[A-Z]+[0-9]+(?:[\s,]+[A-Z]+[0-9]+)*))?", re.I)
#: bandit's nosec comment, bare or with tests (`nosec B105, B106`).
NOSEC_COMMENT = re.compile(r"#\s*nosec\b:?(?P<codes>[^#]*)", re.I)
BANDIT_ID = re.compile(r"^B\d{3}$", re.I)
#: What ruff (S, from bandit) and bandit (B, and its test names) call a finding doctor makes
#: too: a line already silenced for them is silenced for doctor.
FOREIGN_CODES = {
    **dict.fromkeys(["S105", "S106", "S107", "B105", "B106", "B107"], "FD501"),
    **dict.fromkeys(["hardcoded_password_string", "hardcoded_password_funcarg"], "FD501"),
    "hardcoded_password_default": "FD501",
    **dict.fromkeys(["S201", "B201", "flask_debug_true"], "FD502"),
}
#: Folders never searched: virtual environments, caches, version control, build output.
SKIPPED_DIRS = frozenset({"node_modules", "site-packages", "__pycache__", "build", "dist", "venv"})

FLASK_PROXIES = {f"flask.{name}": name for name in ("request", "session", "g", "current_app")}
#: A Celery task pushed into an app context (Flask's pattern) may use `g` and current_app.
REQUEST_PROXIES = {"flask.request": "request", "flask.session": "session"}
CONTEXT_MANAGERS = frozenset({"app_context", "test_request_context", "request_context"})
#: The hooks that run in a request, decorated (`@app.before_request`) or called.
REQUEST_HOOKS = (
    "before_request",
    "before_app_request",
    "after_request",
    "after_app_request",
    "context_processor",
    "app_context_processor",
    "url_value_preprocessor",
    "app_url_value_preprocessor",
    "url_defaults",
    "app_url_defaults",
)
VIEW_DECORATORS = frozenset(
    {"route", "get", "post", "put", "patch", "delete", "errorhandler", "app_errorhandler"}
    | set(REQUEST_HOOKS)
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
#: Dicts: a key stored in one stays until something removes it.
DICT_FACTORIES = frozenset(
    {"dict", "collections.defaultdict", "collections.OrderedDict", "collections.Counter"}
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
#: Names that hold a secret: the secret's word ends the name (DB_PASSWORD, SECRET_KEY,
#: apiToken); followed by more words it names something about one (PASSWORD_RESET_SUBJECT,
#: TOKEN_PREFIX_USER, SECRET_KEY_FILE). salt and pwd are words of their own (not basalt).
SECRET_NAME = re.compile(
    r"(?:(?i:passw(?:or)?d|token|secret|credential|(?:secret|api|private|access)_?key)"
    r"|(?:(?<![A-Za-z])|(?<=[a-z])(?=[A-Z]))(?i:salt|pwd))(?i:s?)$"
)
#: Values that show a secret was copied from an example instead of generated.
PLACEHOLDER_SECRETS = frozenset(
    {"changeme", "change-me", "change_me", "secret", "dev", "development", "replace-me"}
    | {"replace_me", "your-secret-key", "your_secret_key", "supersecret", "super-secret"}
    | {"password", "test", "xxx", "todo", "default", "example", "1234", "12345678", "admin"}
)
#: Values that are switches, blanks or masks (`********`) rather than secrets.
NOT_A_SECRET_VALUE = re.compile(
    r"^\s*(true|false|yes|no|on|off|none|null|0|1|([^\w\s])\2*)?\s*$", re.IGNORECASE
)
#: Values of a secret's setting that say something about a secret, not the secret; each
#: kind is one a real codebase set (docs/doctor.md).
NOT_SECRET_KINDS = (
    # Which algorithm hashes the passwords or signs the tokens (SECURITY_PASSWORD_HASH).
    re.compile(
        r"^(plaintext|bcrypt(_sha256)?|argon2(id|i|d)?|scrypt|pbkdf2([_:-]sha\d+)?"
        r"|(sha\d+|md5|des|bsdi)_crypt|sha\d+|md5|hmac([_-]?sha\d+)?|[hrep]s(256|384|512)"
        r"|eddsa|bearer)$",
        re.IGNORECASE,
    ),
    # A prefix the code puts before its tokens or ids (usr_, pat-): short, ending in _ or -.
    re.compile(r"^[A-Za-z0-9][\w-]{0,10}[_-]$"),
    # A template: {}, {name}, %s, %(name)s or Jinja's double braces, filled in at run time.
    re.compile(r"[{]{2}.*[}]{2}|\{\w*\}|%(\(\w+\))?[sdr](?![A-Za-z0-9])"),
    # Prose: words, starting with a capital or ending a sentence ("Reset your password").
    # "secret key" stays a secret: lower-case words with no stop are how weak keys look.
    re.compile(
        r"^(?=[A-Z]|.*[.!?:…]$)[A-Za-z][a-z'\u2019]*(,?\s+[A-Za-z][a-z'\u2019]*)+[.!?:…]?$"
    ),
    # A path or file name (security/email/reset, /run/secrets/db, reset.html): where it is.
    # Lower-case segments only: base64 keys hold / too, but in mixed case.
    re.compile(r"^(~|\.{1,2})?/?[a-z0-9_.-]+(/[a-z0-9_.-]+)+/?$|^/[\w./-]+$"),
    re.compile(r"^[\w.-]*\w\.(html?|txt|j2|jinja2?|md|json|pem|key|crt|ya?ml|toml|cfg|ini)$"),
    # Markup (<!-- more -->, <hr/>): where the code cuts a text, not a secret. Not a
    # placeholder in brackets (<INSERT_RANDOM_STRING_HERE>): that is a secret left unmade.
    re.compile(r"^\s*(<!--.*-->|</?[a-z][a-z0-9]*(\s[^<>]*)?/?>)\s*$"),
    # An environment variable's name, or a reference to one: where the secret comes from.
    re.compile(r"^\$\{[^}]+\}$|^\$\w+$|^[A-Z][A-Z0-9]*(_[A-Z0-9]+)+$"),
    # A reference to a secret store (Vault, AWS, Google, Azure, 1Password, a file or env).
    re.compile(
        r"^(arn:aws[\w-]*:(secretsmanager|ssm|kms):|(vault|op|sm|gsm|ssm|awssm|azkv|keyvault"
        r"|secrets?|env|file)://|vault:|projects/[^/\s]+/secrets/|https://[\w.-]+\.vault\."
        r"azure\.net/)",
        re.IGNORECASE,
    ),
)
#: A literal secret shorter than this is weak as well as written down.
MIN_SECRET_LENGTH = 12
#: Words of a config class's name that say it is for tests or development (TestingConfig).
DEV_CONFIG_WORDS = frozenset(
    {"test", "testing", "dev", "develop", "development", "local", "debug"}
)
#: A module of settings for development or tests: configs/development.py, settings_local.py.
DEV_MODULE = re.compile(r"(?:^|[_-])(?:test|testing|dev|devel|develop|development|local)$")
#: Where a secret in a development or test configuration is: true, but no production's.
IN_DEV_CONFIG = "in a development or test configuration"
CAMEL_WORD = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])")


#: A word of a name that says its secret is a test's or an example's (TEST_USER_PASSWORD).
NOT_PRODUCTION_WORD = re.compile(
    r"(?:^|_|(?<=[a-z])(?=[A-Z]))(?i:test|testing|fake|dummy|example|sample)(?=$|_|[A-Z])"
)


#: A salt that names a token's purpose for itsdangerous (Flask-Security's CONFIRM_SALT,
#: RESET_SALT, REMEMBER_SALT): a namespace, public by design, unlike a password's salt.
PURPOSE_SALT = re.compile(
    r"(confirm|reset|remember|login|change_?email|email|token|session|cookie|csrf|signup"
    r"|register|invite|unsubscribe|verify|verification)_?salt$",
    re.IGNORECASE,
)
#: A name that says where a secret travels, not the secret (HEADER_API_KEY: X-Api-Key).
HEADER_NAME = re.compile(r"^(?i:header|http_header)_")


def is_secret_name(name: str) -> bool:
    """Tell whether a setting's name says it holds a secret (not where one is, or its name).

    A name with a word such as TEST or FAKE holds a test user's or an example's credential;
    a purpose's salt (RESET_SALT) and a header's name (HEADER_API_KEY) hold no secret.
    """
    return (
        bool(SECRET_NAME.search(name))
        and not NOT_PRODUCTION_WORD.search(name)
        and not PURPOSE_SALT.search(name)
        and not HEADER_NAME.search(name)
    )


def is_secret_value(name: str, value: str) -> bool:
    """Tell whether `value`, set to the setting `name`, is a secret (a placeholder too)."""
    text = value.strip()
    if not is_secret_name(name) or NOT_A_SECRET_VALUE.match(text):
        return False
    if text.casefold() in PLACEHOLDER_SECRETS:
        return True
    # RESET_PASSWORD = "reset_password" names a kind of token, it is not one.
    if text.casefold().replace("-", "_") == name.casefold():
        return False
    return not any(kind.search(text) for kind in NOT_SECRET_KINDS)


def secret_weakness(value: str) -> str | None:
    """Say what makes a literal secret weak (digits only, one character, short), or None."""
    text = value.strip()
    if text.isdigit():
        return "digits only"
    if len(set(text)) == 1:
        return "one character repeated"
    if len(text) < MIN_SECRET_LENGTH:
        return f"{len(text)} characters"
    return None


EXAMPLE_NAME = re.compile(r"_(example|sample|placeholder)$", re.IGNORECASE)
#: Settings spelled like environment variables: the only names whose values are checked.
SETTING_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$|^secret_key$")
PASSWORD_IN_URL = re.compile(
    r"^[a-z][a-z0-9+.-]*://[^:/@\s]+:(?P<password>[^@/\s]+)@(?P<host>[^:/\s]*)", re.I
)
#: A password in a URL that the code fills in: {DB_PW}, %(password)s, $DB_PASSWORD.
FILLED_IN = re.compile(r"^(\{\w*\}|%(\(\w+\))?s|\$\{?\w+\}?)$")
#: A password for a server on this machine is a development default, known to all.
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]"})
GUNICORN_CONFIG = re.compile(r"gunicorn.*\.py$")
CONTAINER_FILES = ("Dockerfile", "Containerfile", "compose.yaml", "docker-compose.yml")
#: Made at import, shared by every worker gunicorn forks with preload_app. Not redis-py's
#: clients: their pool compares the process id and starts afresh in a forked worker.
PER_WORKER_RESOURCES = frozenset(
    {
        "sqlalchemy.create_engine",
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


#: Hooks registered by a call, `app.before_request(fn)`: the argument that is the function.
HOOK_REGISTRARS = {
    **dict.fromkeys([*REQUEST_HOOKS, "before_first_request"], 0),
    "register_error_handler": 1,
    "add_url_rule": 2,
}
#: What _more_handoffs looks for, so that other calls cost one set look-up.
MORE_HANDOFF_ATTRS = frozenset(
    {"start_background_task", "enqueue", "enqueue_call", "enqueue_in", "enqueue_at"}
    | {"create_task", "Process", "apply_async", "map_async", "starmap_async"}
)
MORE_HANDOFF_MODULES = ("gevent.", "asyncio.", "multiprocessing.")
#: Methods a view class dispatches to (Flask's View and MethodView, Flask-RESTful, restx).
VIEW_CLASS_METHODS = VIEW_METHODS | {"head", "options"}
#: Class names, by their last dotted part, that the project's own classes are judged from.
FLASK_ROOTS = frozenset({"Flask"})
THREAD_ROOTS = frozenset({"Thread", "Process"})
#: `class Name(Base, other.Base):` found by a regex, so the pre-pass parses nothing.
CLASS_LINE = re.compile(r"^[ \t]*class[ \t]+(\w+)[ \t]*\(([^)]*)\)", re.MULTILINE)


@dataclass(frozen=True)
class Project:
    """Class names across the project, by what they derive from: all by name, not by module.

    Two classes of one name in two modules are one here; a base the project does not define
    (a library's) counts by its own name only: `Flask`, `*View`, `*Resource`, `Thread`,
    `Process`. (A Blueprint subclass needs no entry: views are found by the name of the
    decorator or registering call, whatever object it is called on.)
    """

    flask: frozenset[str] = FLASK_ROOTS
    view: frozenset[str] = frozenset()
    thread: frozenset[str] = THREAD_ROOTS
    #: Task base classes whose `__call__` pushes a request context.
    request_context_tasks: frozenset[str] = frozenset()


def _derived(bases: dict[str, set[str]], is_root: Callable[[str], bool]) -> frozenset[str]:
    """Return the class names that are roots or derive from one, through any depth."""
    found = {name for name, parents in bases.items() if any(map(is_root, parents))}
    while True:
        more = {name for name, parents in bases.items() if parents & found} - found
        if not more:
            return frozenset(found)
        found |= more


def _project_of(classes: Iterable[tuple[str, Iterable[str], bool]]) -> Project:
    """Build the project's class model from (name, base names, pushes a request context)."""
    bases: dict[str, set[str]] = {}
    pushing: set[str] = set()
    for name, parents, pushes in classes:
        bases.setdefault(name, set()).update(p.rpartition(".")[2] for p in parents)
        if pushes:
            pushing.add(name)
    return Project(
        flask=FLASK_ROOTS | _derived(bases, FLASK_ROOTS.__contains__),
        view=_derived(bases, lambda base: base.endswith(("View", "Resource"))),
        thread=THREAD_ROOTS | _derived(bases, THREAD_ROOTS.__contains__),
        request_context_tasks=frozenset(pushing) | _derived(bases, pushing.__contains__),
    )


def _pushes_request_context(node: ast.ClassDef) -> bool:
    """Tell whether a class's `__call__` runs inside test_request_context or request_context."""
    return any(
        isinstance(method, ast.FunctionDef | ast.AsyncFunctionDef)
        and method.name == "__call__"
        and any(
            isinstance(call, ast.Call)
            and isinstance(call.func, ast.Attribute)
            and call.func.attr in {"test_request_context", "request_context"}
            for call in ast.walk(method)
        )
        for method in node.body
    )


def _classes_in(nodes: Iterable[ast.AST]) -> Iterator[tuple[str, list[str], bool]]:
    """Yield each class among a module's nodes: its name, its bases' names, whether it pushes."""
    for node in nodes:
        if isinstance(node, ast.ClassDef):
            bases = [ast.unparse(base).partition("[")[0] for base in node.bases]
            yield node.name, bases, _pushes_request_context(node)


def project_model(sources: Iterable[str]) -> Project:
    """Learn the project's Flask, view, thread and task base classes from its sources.

    A regex reads `class Name(Bases):` lines, by name; only a file that may hold a task base
    pushing a request context (it says `__call__` and `request_context(`) is parsed.
    """
    classes: list[tuple[str, Iterable[str], bool]] = []
    for text in sources:
        if "__call__" in text and "request_context(" in text:
            try:
                classes += _classes_in(ast.walk(ast.parse(text)))
                continue
            except (SyntaxError, ValueError):
                pass
        for match in CLASS_LINE.finditer(text):
            bases = [b.strip().partition("[")[0] for b in match.group(2).split(",")]
            classes.append((match.group(1), [b for b in bases if b and "=" not in b], False))
    return _project_of(classes)


@dataclass(frozen=True, order=True)
class Finding:
    """One pitfall at one place: `path:line:col RULE message`."""

    path: str
    line: int
    col: int
    rule: str
    message: str
    #: "warning" when the configuration says so: shown, but the run does not fail.
    severity: str = "error"

    def as_text(self) -> str:
        """Lay the finding out like ruff: a location line, then why and how to fix."""
        rule = RULES[self.rule]
        warning = " (warning)" if self.severity == "warning" else ""
        return (
            f"{self.path}:{self.line}:{self.col} {self.rule} {self.message}{warning}\n"
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
    warnings = sum(finding.severity == "warning" for finding in findings)
    summary = f"Found {len(findings)} problem(s) in {count} file(s)" if findings else ""
    if summary:
        summary += f" ({warnings} warning(s): they do not fail)." if warnings else "."
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


def _local_names(function: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> set[str]:
    """Return the names `function` binds itself: its parameters and what it assigns."""
    arguments = function.args
    names = {a.arg for a in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]}
    names |= {a.arg for a in (arguments.vararg, arguments.kwarg) if a is not None}
    if isinstance(function, ast.Lambda):
        return names
    scope = list(_walk_scope(function.body))
    declared = {
        n for node in scope if isinstance(node, ast.Global | ast.Nonlocal) for n in node.names
    }
    stored = {n.id for n in scope if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    return names | (stored - declared)


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


#: Folders of code that only tests run: helpers, fixtures, throwaway test containers.
TEST_SUPPORT_FOLDER = re.compile(r"^(testing|test_?utils|tests?_support|\w*fixtures\w*)$")


#: A folder whose name has the word test (browser-test, e2e_tests, integration-testing).
TEST_FOLDER_WORD = re.compile(r"(?:^|[-_.])(?:tests?|testing)(?:$|[-_.])", re.IGNORECASE)


def is_test_path(path: PurePath) -> bool:
    """Tell whether `path` (below the root) is test code, where fake secrets are expected."""
    parts = path.parts
    name = parts[-1] if parts else ""
    return (
        name.startswith("test_")
        or name == "conftest.py"
        or any(
            TEST_SUPPORT_FOLDER.match(part) or TEST_FOLDER_WORD.search(part) for part in parts[:-1]
        )
    )


class ModuleChecker:
    """Run every single-file rule over one parsed module."""

    def __init__(
        self, path: str, tree: ast.Module, package: Path, project: Project | None = None
    ) -> None:
        self.path = path
        self.tree = tree
        self.findings: list[Finding] = []
        self.test_code = False
        self.facts = ModuleFacts(path, package)
        self.aliases: dict[str, str] = {}
        self.imports_flask = False
        # One walk, shared by every rule: walking is most of the analysis's time.
        self.nodes = list(ast.walk(tree))
        # Alone (check_source), the module is the whole project; analyse() passes the model.
        self.project = project or _project_of(_classes_in(self.nodes))
        self.flask_subclasses = self.project.flask - FLASK_ROOTS
        self._view_list: list[ast.FunctionDef | ast.AsyncFunctionDef] | None = None
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
        # FD304's per-view and per-module facts, made when first asked for.
        self._request_names: dict[int, set[str]] = {}
        self._evicted_names: set[str] | None = None
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

    def add(self, node: ast.AST, rule: str, message: str, quiet: str | None = None) -> None:
        """Record a finding of `rule` at `node`; `quiet` says why it is only a warning."""
        line, col = getattr(node, "lineno", 1), getattr(node, "col_offset", 0) + 1
        if quiet:
            finding = Finding(self.path, line, col, rule, f"{message} ({quiet})", "warning")
        else:
            finding = Finding(self.path, line, col, rule, message)
        self.findings.append(finding)

    def qual(self, node: ast.AST) -> str | None:
        """Return the dotted name `node` refers to in this module."""
        return _qualname(node, self.aliases)

    def _is_flask(self, node: ast.AST) -> bool:
        return isinstance(node, ast.Call) and self._is_flask_name(self.qual(node.func))

    def _is_flask_name(self, name: str | None) -> bool:
        """Tell whether a dotted name is flask.Flask or one of the project's subclasses of it."""
        if not name:
            return False
        return name == "flask.Flask" or name.rpartition(".")[2] in self.flask_subclasses

    def run(self, test_code: bool) -> None:
        """Apply every rule that needs this module only; test code may hold fake secrets."""
        self.check_background()
        self.check_import_time()
        self.check_views()
        self.check_caches()
        self.check_async()
        self.test_code = test_code
        self.check_secrets_and_debug()
        self.check_teardown()
        self.check_logging_order()

    # FD101 -------------------------------------------------------------------------------
    def _targets(
        self, node: ast.AST | None
    ) -> list[ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda]:
        """Return the functions `node` names, unless it is wrapped to carry the context."""
        if isinstance(node, ast.Lambda | ast.FunctionDef | ast.AsyncFunctionDef):
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

    def _handoffs(self) -> Iterator[tuple[ast.AST | None, str, dict[str, str]]]:
        """Yield (the function handed over, where it runs, the proxies it may not use)."""
        for node in self.nodes:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                if not node.decorator_list:
                    continue
                tasks = [d for d in node.decorator_list if self._is_task_decorator(d)]
                if tasks and not any(map(self._runs_in_request_context, tasks)):
                    yield node, "a Celery task", REQUEST_PROXIES
                elif any(self._is_job_decorator(d) for d in node.decorator_list):
                    yield node, "an RQ job", REQUEST_PROXIES
                continue
            if isinstance(node, ast.ClassDef):
                if node.bases and any(
                    (self.qual(base) or "").rpartition(".")[2] in self.project.thread
                    for base in node.bases
                ):
                    for method in node.body:
                        if isinstance(method, ast.FunctionDef) and method.name == "run":
                            yield method, f"a thread ({node.name}.run)", FLASK_PROXIES
                continue
            if not isinstance(node, ast.Call):
                continue
            name = self.qual(node.func) or ""
            keywords = {keyword.arg: keyword.value for keyword in node.keywords}
            attr = node.func.attr if isinstance(node.func, ast.Attribute) else ""
            if attr in MORE_HANDOFF_ATTRS or name.startswith(MORE_HANDOFF_MODULES):
                yield from self._more_handoffs(node, name, attr, keywords)
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

    def _more_handoffs(
        self, node: ast.Call, name: str, attr: str, keywords: dict[str | None, ast.expr]
    ) -> Iterator[tuple[ast.AST | None, str, dict[str, str]]]:
        """Yield the hand-offs of greenlets, Socket.IO, RQ, asyncio tasks and processes."""
        args = node.args
        if name in {"gevent.spawn", "gevent.spawn_raw", "gevent.Greenlet"} and args:
            yield args[0], "a greenlet", FLASK_PROXIES
        elif name == "gevent.spawn_later" and len(args) > 1:
            yield args[1], "a greenlet", FLASK_PROXIES
        elif attr == "start_background_task" and args:
            yield args[0], "a background task", FLASK_PROXIES
        elif attr in {"enqueue", "enqueue_call"}:
            yield keywords.get("func", args[0] if args else None), "an RQ worker", REQUEST_PROXIES
        elif attr in {"enqueue_in", "enqueue_at"} and len(args) > 1:
            yield args[1], "an RQ worker", REQUEST_PROXIES
        elif name in {"asyncio.create_task", "asyncio.ensure_future"} or attr == "create_task":
            # The coroutine is scheduled, not awaited: it runs on after the view returned.
            if args and isinstance(args[0], ast.Call):
                yield args[0].func, "a task that outlives the request", FLASK_PROXIES
        elif name == "multiprocessing.Process" or attr == "Process":
            target = keywords.get("target", args[1] if len(args) > 1 else None)
            yield target, "another process", FLASK_PROXIES
        pool = {"apply_async", "map_async", "starmap_async"}  # not apply: pandas' runs here
        # multiprocessing's Pool: the function comes first (Celery's first is a tuple).
        if attr in pool and args and isinstance(args[0], ast.Name | ast.Attribute):
            yield args[0], f"a process pool's {attr}", FLASK_PROXIES

    def _is_job_decorator(self, decorator: ast.expr) -> bool:
        """Tell whether a decorator makes an RQ job: rq's `@job(...)`, Flask-RQ2's `@rq.job`."""
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        name = self.qual(target) or ""
        return name in {"rq.decorators.job", "rq.job"}

    def _runs_in_request_context(self, decorator: ast.expr) -> bool:
        """Tell whether a task decorator asks for a request context: a keyword or a base class.

        `with_request_context=True` (any keyword naming both, set to a true constant), or
        `base=Task` where the project's Task pushes test_request_context() in `__call__`.
        """
        if not isinstance(decorator, ast.Call):
            return False
        for keyword in decorator.keywords:
            words = (keyword.arg or "").lower()
            value = keyword.value
            base = (self.qual(value) or "").rpartition(".")[2]
            asks = "request" in words and "context" in words
            if asks and isinstance(value, ast.Constant) and value.value:
                return True
            if keyword.arg == "base" and base in self.project.request_context_tasks:
                return True
        return False

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
                local = _local_names(function)
                for use in self._context_uses(body, proxies):
                    position = (use.lineno, use.col_offset)
                    # `session = requests.Session()` in the body is not flask.session.
                    if position in seen or _root_name(use) in local:
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
                if self._is_flask_name(name):
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
                    message = f"`{node.func.value.id}.run()` runs at import"
                    self.add(node, "FD503", message, self._script)
        for functions in self.functions.values():
            for function in functions:
                if any(self._is_flask(node) for node in _walk_scope(function.body)):
                    self.facts.defines_factory = True

    @cached_property
    def _script(self) -> str | None:
        """Say why this module is a script, not one gunicorn loads: it reads its command line.

        Read once per module: every finding in a script asks."""
        for statement in _module_statements(self.tree.body):
            for node in _walk_scope([statement]):
                name = self.qual(node) if isinstance(node, ast.Attribute | ast.Name) else None
                if name in {"sys.argv", "argparse.ArgumentParser"}:
                    return "a script: it reads its command line at import, gunicorn loads none"
        return None

    def _check_bound_at_import(self, node: ast.Call, name: str) -> None:
        """FD201: an extension bound at import to an app this module makes with Flask(...)."""
        # Only such an app is shared by whoever imports the module (tests, workers); an app
        # from a factory call at import (`app = create_app()` in manage.py) is the script's own.
        arguments = [*node.args, *(keyword.value for keyword in node.keywords)]
        app_arguments = [
            a
            for a in arguments
            if (isinstance(a, ast.Name) and a.id in self.app_names) or self._is_flask(a)
        ]
        if not app_arguments:
            return
        shown = ast.unparse(app_arguments[0])
        if isinstance(node.func, ast.Attribute) and node.func.attr == "init_app":
            self.add(node, "FD201", f"`{ast.unparse(node.func)}({shown})` binds the app at import")
        elif name.rpartition(".")[2][:1].isupper() and not self._is_flask(node):
            self.add(
                node, "FD201", f"`{name.rpartition('.')[2]}({shown})` binds the app at import"
            )

    # FD301, FD302 ------------------------------------------------------------------------
    def _views(self) -> Iterator[ast.FunctionDef | ast.AsyncFunctionDef]:
        """Yield every function Flask calls for a request: views, view methods and hooks."""
        if self._view_list is None:
            self._view_list = list(dict.fromkeys(self._find_views()))
        return iter(self._view_list)

    def _find_views(self) -> Iterator[ast.FunctionDef | ast.AsyncFunctionDef]:
        """Yield views by decorator, by registering call, and the methods of view classes."""
        registered: set[str] = set()
        classes: set[str] = set()  # registered as views: as_view, add_resource, a helper
        local_calls: list[ast.Call] = []  # may call a helper that registers a view class
        as_view = False
        for node in self.nodes:
            if not isinstance(node, ast.Call):
                continue
            func, args = node.func, node.args
            handed: ast.expr | None = None  # the function a hook's registration hands over
            if isinstance(func, ast.Attribute):
                attr = func.attr
                as_view |= attr == "as_view"
                if attr == "as_view" and isinstance(func.value, ast.Name):
                    classes.add(func.value.id)
                elif attr == "add_resource" and args and isinstance(args[0], ast.Name):
                    classes.add(args[0].id)
                position = HOOK_REGISTRARS.get(attr)
                if position is not None and len(args) > position:
                    handed = args[position]
            elif isinstance(func, ast.Name):
                if func.id in self.functions:
                    local_calls.append(node)
            # app.errorhandler(404)(fn), bp.route("/")(fn): the decorator called by hand.
            elif isinstance(func, ast.Call) and _decorator_attr(func) in VIEW_DECORATORS and args:
                handed = args[0]
            if isinstance(handed, ast.Name):
                registered.add(handed.id)
            for keyword in node.keywords:
                if keyword.arg == "view_func" and isinstance(keyword.value, ast.Name):
                    registered.add(keyword.value.id)
        helpers = self._view_helpers() if local_calls and as_view else {}
        for call in local_calls:
            given = [*call.args, None]
            for index in helpers.get(getattr(call.func, "id", ""), []):
                argument = given[min(index, len(call.args))]
                if isinstance(argument, ast.Name):
                    classes.add(argument.id)
        for node in self.nodes:
            if isinstance(node, ast.ClassDef) and self._is_view_class(node, classes):
                methods = [
                    m for m in node.body if isinstance(m, ast.FunctionDef | ast.AsyncFunctionDef)
                ]
                verbs = [m for m in methods if m.name in VIEW_CLASS_METHODS]
                if not verbs and node.name in classes:
                    # Its base dispatches (to `process`, say): every public method may serve.
                    verbs = [m for m in methods if not m.name.startswith("_")]
                yield from verbs
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and (
                node.name in registered
                or any(
                    isinstance(d.func if isinstance(d, ast.Call) else d, ast.Attribute)
                    and _decorator_attr(d) in VIEW_DECORATORS
                    for d in node.decorator_list
                )
                # Flask-Admin's @expose("/") on a BaseView or ModelView method.
                or any(
                    _decorator_attr(d) in {"expose", "expose_plugview"}
                    for d in node.decorator_list
                )
            ):
                yield node

    def _is_view_class(self, node: ast.ClassDef, registered: set[str]) -> bool:
        """Tell whether a class serves requests: registered, routed, or a View or Resource."""
        if node.name in registered or node.name in self.project.view:
            return True
        if any(_decorator_attr(d) in {"route", "resource"} for d in node.decorator_list):
            return True  # flask-restx's @ns.route("/x"), Flask-RESTful's @api.resource
        return any(
            (self.qual(base) or "").endswith(("View", "Resource"))
            or (self.qual(base) or "").rpartition(".")[2] in self.project.view
            for base in node.bases
        )

    def _view_helpers(self) -> dict[str, list[int]]:
        """Return the module's functions that call `.as_view` on a parameter, and its positions.

        `register_api(bp, ItemAPI, "item")` then registers ItemAPI as a view class.
        """
        helpers: dict[str, list[int]] = {}
        for name, functions in self.functions.items():
            for function in functions:
                parameters = [a.arg for a in [*function.args.posonlyargs, *function.args.args]]
                for node in _walk_scope(function.body):
                    if (
                        isinstance(node, ast.Attribute)
                        and node.attr == "as_view"
                        and isinstance(node.value, ast.Name)
                        and node.value.id in parameters
                    ):
                        helpers.setdefault(name, []).append(parameters.index(node.value.id))
        return helpers

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
            nodes = list(_walk_scope(view.body))  # walked once, read three times
            declared = {n for node in nodes if isinstance(node, ast.Global) for n in node.names}
            local = _local_names(view)
            # A change made holding a lock is a per-process store kept whole between threads,
            # the rule's own fix; what stays true is that each worker has its own.
            locked = {
                id(inner)
                for node in nodes
                if isinstance(node, ast.With)
                and any("lock" in ast.unparse(item.context_expr).lower() for item in node.items)
                for statement in node.body
                for inner in ast.walk(statement)
            }
            for node in nodes:
                name = self._mutated_module_name(node, shared - local, declared)
                if name is not None and self._fills_cache(node, name, view):
                    message = f"view `{view.name}` adds request data as keys to module-level"
                    self.add(node, "FD304", f"{message} `{name}`, which nothing evicts")
                elif name is not None:
                    message = f"view `{view.name}` changes module-level `{name}`"
                    under_lock = UNDER_LOCK if id(node) in locked else None
                    self.add(node, "FD301", message, self._rebound(node, declared) or under_lock)

    @staticmethod
    def _rebound(node: ast.AST, declared: set[str]) -> str | None:
        """Say why `global x; x = make()` is a warning: a new object, nothing changed in place.

        The view sets a per-process object (a client made on first use): workers hold their
        own, and two first requests may both make one, but no request's data reaches another.
        """
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1):
            return None
        target = node.targets[0]
        if not (isinstance(target, ast.Name) and target.id in declared):
            return None
        reads = {n.id for n in ast.walk(node.value) if isinstance(n, ast.Name)}
        if target.id in reads:  # x = x + 1: a change, read and written back
            return None
        return "a global set whole, not changed in place: one per process, set on first use"

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

    # FD304 -------------------------------------------------------------------------------
    def _unbounded_cache(self, decorator: ast.expr) -> bool:
        """Tell whether `decorator` is `functools.cache`, or `lru_cache` with maxsize None."""
        if not isinstance(decorator, ast.Call):
            return self.qual(decorator) == "functools.cache"
        if self.qual(decorator.func) != "functools.lru_cache":
            return False
        sizes = [*decorator.args[:1], *(k.value for k in decorator.keywords if k.arg == "maxsize")]
        return any(isinstance(size, ast.Constant) and size.value is None for size in sizes)

    def _request_data(self, view: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
        """Return the names in `view` that hold request data: its parameters, what they make."""
        known = self._request_names.get(id(view))
        if known is not None:
            return known
        arguments = view.args
        names = {
            argument.arg
            for argument in [
                *arguments.posonlyargs,
                *arguments.args,
                *arguments.kwonlyargs,
                *filter(None, [arguments.vararg, arguments.kwarg]),
            ]
        } - {"self", "cls"}
        assignments = [
            node
            for node in _walk_scope(view.body)
            if isinstance(node, ast.Assign | ast.AnnAssign | ast.For | ast.NamedExpr)
        ]
        grown = True
        while grown:  # `key = request.args["k"]; name = key.lower()`: until nothing is added
            grown = False
            for node in assignments:
                value = node.iter if isinstance(node, ast.For) else node.value
                if value is None or not self._is_request_data(value, names):
                    continue
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    for name in ast.walk(target):
                        if isinstance(name, ast.Name) and name.id not in names:
                            names.add(name.id)
                            grown = True
        self._request_names[id(view)] = names
        return names

    def _is_request_data(self, node: ast.AST, names: set[str]) -> bool:
        """Tell whether `node` uses request data, the view's `names`, or a database id."""
        for part in ast.walk(node):
            if isinstance(part, ast.Name | ast.Attribute) and self.qual(part) in REQUEST_PROXIES:
                return True
            word = ""
            if isinstance(part, ast.Name):
                if part.id in names:
                    return True
                word = "" if part.id == "id" else part.id  # `id` alone is the builtin
            elif isinstance(part, ast.Attribute):
                word = part.attr
            elif isinstance(part, ast.Subscript) and isinstance(part.slice, ast.Constant):
                word = str(part.slice.value)
            if word == "id" or word.endswith("_id"):
                return True
        return False

    def _fills_cache(
        self, node: ast.AST, name: str, view: ast.FunctionDef | ast.AsyncFunctionDef
    ) -> bool:
        """Tell whether `node` stores under a request-made key in module-level dict `name`."""
        value = self.module_names.get(name)
        is_dict = isinstance(value, ast.Dict | ast.DictComp) or (
            isinstance(value, ast.Call) and self.qual(value.func) in DICT_FACTORIES
        )
        if not is_dict or name in self._evicted():
            return False
        key: ast.expr | None = None
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name):
                key = target.slice
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "setdefault"
            and isinstance(node.func.value, ast.Name)
            and node.args
        ):
            key = node.args[0]
        return key is not None and self._is_request_data(key, self._request_data(view))

    def _evicted(self) -> set[str]:
        """Return the module-level names something empties: `pop`, `popitem`, `clear`, `del`."""
        if self._evicted_names is None:
            self._evicted_names = {
                root
                for node in self.nodes
                for root in (
                    [_root_name(node.func.value)]
                    if isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr in {"pop", "popitem", "clear"}
                    else [_root_name(t) for t in node.targets]
                    if isinstance(node, ast.Delete)
                    else []
                )
                if root is not None
            }
        return self._evicted_names

    def check_caches(self) -> None:
        """FD304: an unbounded functools cache that a view or hook calls with request data."""
        cached: dict[str, list[tuple[ast.FunctionDef | ast.AsyncFunctionDef, ast.expr]]] = {}
        for name, functions in self.functions.items():
            for function in functions:
                arguments = [*function.args.posonlyargs, *function.args.args]
                if arguments and arguments[0].arg in {"self", "cls"}:
                    arguments = arguments[1:]
                arguments += function.args.kwonlyargs
                if not (arguments or function.args.vararg or function.args.kwarg):
                    continue  # one entry at most: nothing grows
                for decorator in function.decorator_list:
                    if self._unbounded_cache(decorator):
                        cached.setdefault(name, []).append((function, decorator))
        if not cached:
            return
        reported: set[int] = set()
        for view in self._views():
            for function, decorator in cached.get(view.name, []):
                if function is view and id(decorator) not in reported:
                    reported.add(id(decorator))
                    shown = f"`@{ast.unparse(decorator)}` on view `{view.name}`"
                    self.add(decorator, "FD304", f"{shown}: Flask calls it with each URL's values")
            for call in _walk_scope(view.body):
                if not isinstance(call, ast.Call):
                    continue
                func = call.func
                callee = func.id if isinstance(func, ast.Name) else None
                if isinstance(func, ast.Attribute) and _root_name(func) in {"self", "cls"}:
                    callee = func.attr
                passed = [*call.args, *(keyword.value for keyword in call.keywords)]
                if callee not in cached or not any(
                    self._is_request_data(argument, self._request_data(view))
                    for argument in passed
                ):
                    continue
                for function, decorator in cached[callee]:
                    if id(decorator) not in reported:
                        reported.add(id(decorator))
                        shown = f"`@{ast.unparse(decorator)}` on `{function.name}`"
                        message = f"{shown}, which view `{view.name}` calls with request data"
                        self.add(decorator, "FD304", f"{message}: it keeps every value")

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
        # Outside any function: a test's settings are there; inside, a test sets up what it
        # tests (`app.config["MAIL_PASSWORD"] = "password"` to send a mail), which is no leak.
        top = {
            id(node)
            for statement in [
                *_module_statements(self.tree.body, main_guard=True),
                *(
                    s
                    for c in self.nodes
                    if isinstance(c, ast.ClassDef)
                    for s in c.body
                    # A test class's methods are tests, as functions are.
                    if not isinstance(s, ast.FunctionDef | ast.AsyncFunctionDef)
                ),
            ]
            for node in _walk_scope([statement])
        }
        class_level: set[int] = set()
        dev_config: set[int] = set()  # DEBUG = True in TestingConfig is no production's
        for node in self.nodes:
            if isinstance(node, ast.ClassDef):
                class_level.update(map(id, node.body))
                if DEV_CONFIG_WORDS & {w.lower() for w in CAMEL_WORD.findall(node.name)}:
                    dev_config.update(map(id, node.body))
        # Code that runs testcontainers runs only under tests: its passwords are made up.
        support = any(name.startswith("testcontainers") for name in self.aliases.values())
        handed: set[int] = set()  # what is handed to a test container, at any depth
        for node in self.nodes:
            if isinstance(node, ast.Call) and self._is_test_container(node):
                arguments = [*node.args, *(keyword.value for keyword in node.keywords)]
                handed.update(id(inner) for value in arguments for inner in ast.walk(value))
        dev_module = bool(DEV_MODULE.search(Path(self.path).stem.lower()))
        # What runs at import, and what runs only when debug was asked for: debug=True there
        # is the development server's (`python run.py`), not the one gunicorn loads.
        at_import = {
            id(node)
            for statement in _module_statements(self.tree.body)
            for node in _walk_scope([statement])
        }
        asked = {
            id(inner)
            for node in self.nodes
            if isinstance(node, ast.If) and "debug" in ast.unparse(node.test).lower()
            for statement in node.body
            for inner in ast.walk(statement)
        }
        for node in self.nodes:
            if self.test_code and id(node) not in top:
                continue
            made_up = support or id(node) in handed
            quiet = IN_DEV_CONFIG if dev_module or id(node) in dev_config else None
            if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                debug_quiet = "only when debug was asked for" if id(node) in asked else None
                for target in targets:
                    key = self._config_key(target, id(node) in module_level | class_level)
                    if key is not None:
                        self._check_value(
                            key,
                            node.value,
                            target,
                            made_up,
                            debug_ok=id(node) in dev_config,
                            quiet=quiet or debug_quiet,
                        )
            elif isinstance(node, ast.Dict):
                for key_node, value in zip(node.keys, node.values, strict=True):
                    if isinstance(key_node, ast.Constant) and isinstance(key_node.value, str):
                        self._check_value(key_node.value, value, key_node, made_up, quiet=quiet)
            elif isinstance(node, ast.Call):
                for keyword in node.keywords:
                    if keyword.arg is None:
                        continue
                    if keyword.arg == "debug" and self._is_true(keyword.value):
                        if not self.test_code and self._runs_a_server(node):
                            dev_run = self._dev_run(node, at_import)
                            self.add(keyword.value, "FD502", "`debug=True`", dev_run)
                    elif keyword.arg.isupper():
                        self._check_value(
                            keyword.arg, keyword.value, keyword.value, made_up, quiet=quiet
                        )
                self._check_env_default(node, made_up)

    def _runs_a_server(self, call: ast.Call) -> bool:
        """Tell whether `call` starts a server (app.run, socketio.run, run_simple), where debug
        serves Werkzeug's debugger; debug=True of another library's client is its own."""
        attr = call.func.attr if isinstance(call.func, ast.Attribute) else ""
        return attr == "run" or (self.qual(call.func) or "").endswith("run_simple")

    def _dev_run(self, call: ast.Call, at_import: set[int]) -> str | None:
        """Say why `call`'s debug=True is a warning: a development server not run at import."""
        if id(call) not in at_import:
            return "the development server's, started only by running the script"
        return self._script

    def _is_test_container(self, call: ast.Call) -> bool:
        """Tell whether `call` starts a container for tests (testcontainers, docker's SDK)."""
        name = self.qual(call.func) or ""
        return name.startswith("testcontainers.") or name.endswith(
            ("containers.run", "containers.create")
        )

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

    def _check_value(
        self,
        key: str,
        value: ast.expr,
        at: ast.AST,
        made_up: bool,
        debug_ok: bool = False,
        quiet: str | None = None,
    ) -> None:
        """Report a literal secret, or debug on, set to the setting `key` (tests: placeholders).

        `quiet` says why a finding here is a warning (a development configuration, a fallback).
        """
        # DEBUG, or app.debug: a lower-case "debug" key is another library's (python3-saml).
        flask_debug = key == "DEBUG" or (key == "debug" and isinstance(at, ast.Attribute))
        if flask_debug and self._is_true(value) and not (self.test_code or debug_ok):
            self.add(at, "FD502", f"`{key}` is set to True", quiet)
        literal = value.value if isinstance(value, ast.Constant) else None
        if not isinstance(literal, str | bytes) or not literal:
            return
        text = literal if isinstance(literal, str) else literal.decode("latin-1")
        if self.test_code or made_up:
            # Tests may hold made-up secrets; a well-known placeholder is copied, not made up.
            # Only in a setting: a form field or a test user's password (`"password": "x"`)
            # guards nothing: 76 of the 90 false FD501 findings on the labelled codebases.
            if (
                SETTING_NAME.match(key)
                and is_secret_value(key, text)
                and text.strip().casefold() in PLACEHOLDER_SECRETS
            ):
                message = f"`{key}` is a placeholder: build test secrets at run time"
                where = "in test code" if self.test_code else "in code only tests run"
                self.add(at, "FD501", f"{message}, e.g. with secrets.token_urlsafe()", where)
            return
        url = PASSWORD_IN_URL.match(text)
        if url and FILLED_IN.match(url.group("password")):
            return  # a template of a URL: the password comes from elsewhere
        if url and url.group("host") not in LOOPBACK_HOSTS and not EXAMPLE_NAME.search(key):
            self.add(at, "FD501", f"`{key}` holds a URL with a password in it", quiet)
        elif not url and SETTING_NAME.match(key) and is_secret_value(key, text):
            weakness = secret_weakness(text)
            weak = f", and a weak one ({weakness})" if weakness else ""
            self.add(at, "FD501", f"`{key}` is set to a literal{weak}", quiet)

    def _check_env_default(self, call: ast.Call, made_up: bool) -> None:
        """FD501 for `os.environ.get("SECRET_KEY", "dev")`: the fallback is a secret too."""
        if self.qual(call.func) not in {"os.environ.get", "os.getenv"} or len(call.args) < 2:
            return
        name, default = call.args[0], call.args[1]
        if isinstance(name, ast.Constant) and isinstance(name.value, str):
            fallback = f"the fallback when {name.value} is unset"
            self._check_value(name.value, default, default, made_up, quiet=fallback)

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
            ):
                # `app.teardown_appcontext(close_db)`, or a method: `(self.teardown_db)`.
                given = node.args[0]
                if isinstance(given, ast.Attribute) and _root_name(given) in {"self", "cls"}:
                    handlers += self.functions.get(given.attr, [])
                elif isinstance(given, ast.Name):
                    handlers += self.functions.get(given.id, [])
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
    def _app_parameters(self, function: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
        """Return the parameters of `function` that hold an app (`app`, or typed `: Flask`)."""
        arguments = [*function.args.posonlyargs, *function.args.args, *function.args.kwonlyargs]
        return {
            argument.arg
            for argument in arguments
            if argument.arg == "app"
            or (
                argument.annotation is not None
                and self._is_flask_name(self.qual(argument.annotation))
            )
        }

    def check_logging_order(self) -> None:
        """FD701: logging configured after `app.logger` was used, in the same scope."""
        # Most modules configure no logging: then there is no scope to read in order.
        if not any(
            isinstance(node, ast.Call) and self.qual(node.func) in LOGGING_SETUP
            for node in self.nodes
        ):
            return
        scopes: list[tuple[list[ast.stmt], set[str]]] = [(self.tree.body, set(self.app_names))]
        for functions in self.functions.values():
            for function in functions:
                made = {
                    target.id
                    for node in _walk_scope(function.body)
                    if isinstance(node, ast.Assign) and self._is_flask(node.value)
                    for target in node.targets
                    if isinstance(target, ast.Name)
                }
                scopes.append(
                    (function.body, self.app_names | made | self._app_parameters(function))
                )
        for body, apps in scopes:
            nodes = [
                node
                for statement in body
                if not isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
                for node in _walk_scope([statement])
                if isinstance(node, ast.Call | ast.Attribute)
            ]
            self._logging_in_order(sorted(nodes, key=lambda n: (n.lineno, n.col_offset)), apps)

    def _is_app_logger(self, node: ast.AST, apps: set[str]) -> bool:
        """Tell whether `node` is `app.logger` (the cached property that adds Flask's handler)."""
        if not isinstance(node, ast.Attribute) or node.attr != "logger":
            return False
        owner = node.value
        return (
            isinstance(owner, ast.Name) and owner.id in apps | {"app", "application"}
        ) or self.qual(owner) == "flask.current_app"

    def _logging_in_order(self, nodes: list[ast.Call | ast.Attribute], apps: set[str]) -> None:
        """Report each logging setup that comes after the app's logger was first read."""
        used: ast.Attribute | None = None
        # `app.logger.removeHandler(default_handler)`: Flask's handler is gone again.
        removed = False
        for node in nodes:
            if isinstance(node, ast.Attribute):
                if used is None and self._is_app_logger(node, apps):
                    used = node
                continue
            name = self.qual(node.func)
            if isinstance(node.func, ast.Attribute) and node.func.attr == "removeHandler":
                removed |= any(self.qual(a) == "flask.logging.default_handler" for a in node.args)
            if used is None or name not in LOGGING_SETUP:
                continue
            where = f"`{name}` after `{ast.unparse(used)}` was used (line {used.lineno}): "
            if name == "logging.basicConfig":
                if not removed:
                    self.add(node, "FD701", f"{where}Flask's own handler prints each line again")
            elif not (node.args and isinstance(node.args[0], ast.Dict)):
                # The configuration is not in the code (a file, a setting): it may keep the
                # app's logger, or set it up by name; doctor cannot tell, so it says nothing.
                continue
            elif not self._keeps_loggers(node):
                self.add(node, "FD701", f"{where}it disables that logger: its lines are lost")
            elif not removed:
                self.add(node, "FD701", f"{where}Flask's own handler prints each line again")

    @staticmethod
    def _keeps_loggers(call: ast.Call) -> bool:
        """Tell whether dictConfig or fileConfig is told `disable_existing_loggers=False`."""
        pairs: list[tuple[object, ast.expr]] = [(k.arg, k.value) for k in call.keywords]
        if call.args and isinstance(call.args[0], ast.Dict):
            pairs += [
                (key.value, value)
                for key, value in zip(call.args[0].keys, call.args[0].values, strict=True)
                if isinstance(key, ast.Constant)
            ]
        return any(
            key == "disable_existing_loggers"
            and isinstance(value, ast.Constant)
            and value.value is False
            for key, value in pairs
        )


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
    # One worker is a choice (state kept in the process, threads for concurrency), not a
    # count that ignores the CPU limit: containers scale it by replicas.
    if workers and isinstance(fixed, int) and fixed > 1 and in_container:
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


#: Files, by name, that may start gunicorn or set its options outside Python (not `.py`:
#: an entrypoint.py is Python, checked as such).
DEPLOY_FILE = re.compile(
    r"^(?!.*\.py$)(Procfile|(Docker|Container)file.*|.*\.(Dockerfile|Containerfile|sh|service|env)"
    r"|.*entrypoint.*|(docker-)?compose.*\.ya?ml|\.env(\..+)?)$"
)
#: Of those, the ones that run in a container: a fixed worker count there is FD802.
CONTAINER_FILE = re.compile(
    r"^(Procfile|(Docker|Container)file|.*\.(Docker|Container)file$|(docker-)?compose)"
)
#: gunicorn's options that take a value, by what doctor calls the setting (None: ignored).
GUNICORN_OPTIONS: dict[str, str | None] = {
    **dict.fromkeys(["-w", "--workers"], "workers"),
    **dict.fromkeys(["-k", "--worker-class"], "worker_class"),
    **dict.fromkeys(["-c", "--config"], "config"),
    **dict.fromkeys(["-b", "--bind"], "bind"),
    "--threads": "threads",
    "--chdir": "chdir",
    **dict.fromkeys(
        [
            "-t",
            "--timeout",
            "--graceful-timeout",
            "--keep-alive",
            "--max-requests",
            "--max-requests-jitter",
            "--log-level",
            "--access-logfile",
            "--error-logfile",
            "--log-file",
            "--access-logformat",
            "--log-config",
            "--pythonpath",
            "-e",
            "--env",
            "-n",
            "--name",
            "-u",
            "--user",
            "-g",
            "--group",
            "-m",
            "--umask",
            "--worker-connections",
            "--backlog",
            "-p",
            "--pid",
            "--worker-tmp-dir",
            "--certfile",
            "--keyfile",
            "--ca-certs",
            "--forwarded-allow-ips",
            "--statsd-host",
            "--statsd-prefix",
            "--limit-request-line",
            "--limit-request-fields",
            "--limit-request-field_size",
            "--paste",
            "--logger-class",
            "--reload-extra-file",
            "--reload-engine",
            "--proxy-allow-from",
            "--log-syslog-to",
        ],
        None,
    ),
}
#: `GUNICORN_CMD_ARGS=...` in a .env, `ENV GUNICORN_CMD_ARGS "..."`, compose's environment.
CMD_ARGS_ENV = re.compile(r"""(["']?)GUNICORN_CMD_ARGS["']?\s*[=:\s]\s*(.*)""")
#: A YAML key whose value follows on the lines below: a list, or folded or literal text.
BLOCK_VALUES = frozenset({"", ">", "|", ">-", "|-"})
SHELL_OPERATORS = frozenset({"&&", "||", ";", ";;", "|", "&"})


def _logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """Yield each line with its number, lines continued by a backslash joined to it."""
    start, parts = 1, list[str]()
    for number, line in enumerate(text.splitlines(), start=1):
        if not parts:
            start = number
        if line.rstrip().endswith("\\"):
            parts.append(line.rstrip()[:-1])
            continue
        yield start, " ".join([*parts, line])
        parts = []
    if parts:
        yield start, " ".join(parts)


def _yaml_blocks(lines: Iterable[tuple[int, str]]) -> Iterator[tuple[int, str]]:
    """Fold compose's block values (`command:` then `- gunicorn` items or `>` text) in a line."""
    pending: tuple[int, str, int, list[str]] | None = None
    for number, line in lines:
        indent = len(line) - len(line.lstrip())
        if pending is not None:
            if line.strip() and indent > pending[2]:
                item = line.strip()
                pending[3].append(item[1:].strip() if item.startswith("- ") else item)
                continue
            yield pending[0], f"{pending[1]} {' '.join(pending[3])}"
            pending = None
        key, colon, value = line.partition(":")
        value = re.sub(r"(^|\s)#.*", "", value).strip()  # a YAML comment
        if colon and key.strip() in {"command", "entrypoint"} and value in BLOCK_VALUES:
            pending = (number, f"{key.strip()}:", indent, [])
            continue
        yield number, line
    if pending is not None:
        yield pending[0], f"{pending[1]} {' '.join(pending[3])}"


def _split(text: str) -> list[str]:
    """Split a command as a shell does, operators apart; fall back to whitespace."""
    import shlex

    lexer = shlex.shlex(text, posix=True, punctuation_chars=";&|")
    lexer.whitespace_split = True
    try:
        return list(lexer)
    except ValueError:  # an unclosed quote
        return text.split()


def _gunicorn_argvs(name: str, text: str) -> Iterator[tuple[int, list[str], bool]]:
    """Yield (line, gunicorn's arguments, from GUNICORN_CMD_ARGS) for each place it is set."""
    lines: Iterable[tuple[int, str]] = _logical_lines(text)
    if name.endswith((".yml", ".yaml")):
        lines = _yaml_blocks(lines)
    for number, line in lines:
        if line.lstrip().startswith("#"):
            continue
        env = CMD_ARGS_ENV.search(line)
        if env:
            words = _split(env.group(1) + env.group(2))
            value = words[:1] if env.group(1) or env.group(2)[:1] in "\"'" else words
            yield number, _split(" ".join(value)), True
            continue
        if "gunicorn" not in line:
            continue
        # A list first (exec form); `--bind [::]:80` in shell form is no list: split it then.
        argv = _gunicorn_argv(_exec_form(line) or [])
        argv = _gunicorn_argv(_split(line)) if argv is None else argv
        if argv is not None:
            yield number, argv, False


def _gunicorn_argv(words: list[str]) -> list[str] | None:
    """Return the words after `gunicorn` up to a shell operator; None if it is not run."""
    for index, word in enumerate(words):
        if re.split(r"[/=]", word)[-1] == "gunicorn" and "install" not in words[:index]:
            argv = []
            for argument in words[index + 1 :]:
                if argument in SHELL_OPERATORS or argument.startswith("#"):
                    break
                argv.append(argument)
            return argv
    return None


def _exec_form(line: str) -> list[str] | None:
    """Return a JSON or YAML flow list's words (`CMD ["gunicorn", "-w", "4"]`), or None."""
    start, end = line.find("["), line.rfind("]")
    if start < 0 or end < start:
        return None
    try:
        words = json.loads(line[start : end + 1])
    except ValueError:
        words = [w.strip("'\"") for w in _split(line[start + 1 : end].replace(",", " "))]
    if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
        return None
    # ["sh", "-c", "gunicorn -w 4 app:app"]: the shell's command is split in turn.
    return [part for word in words for part in (_split(word) if " " in word else [word])]


def _gunicorn_settings(argv: Sequence[str]) -> dict[str, str]:
    """Read gunicorn's command line: workers, worker_class, preload, config, app, ..."""
    settings: dict[str, str] = {}
    words = iter(argv)
    for word in words:
        option, equals, value = word.partition("=")
        if word == "--preload":
            settings["preload"] = "true"
        elif option in GUNICORN_OPTIONS:
            value = value if equals else next(words, "")
            setting = GUNICORN_OPTIONS[option]
            if setting:
                settings[setting] = value
        elif word[:2] in {"-w", "-k", "-c", "-b"} and len(word) > 2:
            settings[str(GUNICORN_OPTIONS[word[:2]])] = word[2:]  # -w4
        elif not word.startswith("-"):
            settings.setdefault("app", word)
    return settings


def _sensitive_before_patch(folders: Iterable[Path], app: str) -> str | None:
    """Say which socket library the module gunicorn loads imports before gevent patches.

    None when it patches first, imports none at its top, or cannot be found: unknown.
    """
    module = app.partition(":")[0].strip("'\"")
    relative = module.replace(".", "/")
    for folder in folders:
        for candidate in (folder / f"{relative}.py", folder / relative / "__init__.py"):
            if not candidate.is_file():
                continue
            try:
                tree = ast.parse(candidate.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, SyntaxError, ValueError):
                return None
            for statement in tree.body:
                if isinstance(statement, ast.Expr) and "patch_all" in ast.unparse(statement):
                    return None
                names: list[str] = []
                if isinstance(statement, ast.Import):
                    names = [alias.name for alias in statement.names]
                elif isinstance(statement, ast.ImportFrom) and statement.module:
                    names = [] if statement.level else [statement.module]
                for imported in names:
                    if imported.partition(".")[0] in PATCH_SENSITIVE | {"socket", "ssl"}:
                        return f"{candidate.name} imports {imported} (line {statement.lineno})"
            return None
    return None


def check_deploy_file(
    path: Path, shown: str, text: str, root: Path | None = None
) -> tuple[list[Finding], int | None, list[Path]]:
    """FD802 and FD803 for gunicorn started from a Procfile, Dockerfile, compose file, script.

    Return the findings, the line of a `--preload` (for FD801) and the config files that
    `-c FILE.py` names, found from the file's folder, `--chdir` or the root.
    """
    findings: list[Finding] = []
    configs: list[Path] = []
    if "gunicorn" not in text and "GUNICORN_CMD_ARGS" not in text:
        return findings, None, configs
    folders = (path.parent, *path.parent.parents)[:3]
    in_container = bool(CONTAINER_FILE.match(path.name)) or any(
        (folder / name).exists() for folder in folders for name in CONTAINER_FILES
    )
    argvs = list(_gunicorn_argvs(path.name, text))
    env: dict[str, str] = {}
    for _, argv, from_env in argvs:
        if from_env:
            env.update(_gunicorn_settings(argv))
    preload_line = None
    for line, argv, from_env in argvs:
        own = _gunicorn_settings(argv)
        workers = own.get("workers", "")
        if workers.isdigit() and int(workers) > 1 and in_container:
            findings.append(
                Finding(
                    shown,
                    line,
                    1,
                    "FD802",
                    f"`--workers {workers}` in {path.name}, in a container",
                )
            )
        settings = own if from_env else {**env, **own}
        if settings.get("preload") and preload_line is None:
            preload_line = line
        chdir = path.parent / settings.get("chdir", ".")
        where = [chdir, path.parent, *([root, root / "src"] if root else [])]
        config = settings.get("config", "")
        if config.endswith(".py"):
            configs += [(f / config).resolve() for f in where if (f / config).is_file()][:1]
        worker_class = settings.get("worker_class", "")
        if "gevent" in worker_class and settings.get("preload") and settings.get("app"):
            reason = _sensitive_before_patch(where, settings["app"])
            if reason:
                message = f"gevent workers with --preload, but {reason} before gevent patches"
                findings.append(Finding(shown, line, 1, "FD803", message))
    return findings, preload_line, configs


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
    project: Project | None = None,
) -> tuple[list[Finding], ModuleFacts]:
    """Check one module's source; return its findings and what cross-file rules need.

    `project` is what project_model() learnt of the other modules (their Flask subclasses,
    view and task base classes); without it, the module is taken for the whole project.
    Raise SyntaxError (or ValueError, for a NUL byte before Python 3.12) when this Python
    cannot parse it: that is a limit of the run, which check_paths reports as one.
    """
    file = real_path or Path(path)
    tree = ast.parse(text, filename=path)
    package = _package_of(file.resolve()) if real_path else file
    checker = ModuleChecker(path, tree, package, project)
    checker.run(is_test_path(file) if test_code is None else test_code)
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
        # A gunicorn*.py sets preload_app; a Procfile, Dockerfile or script passes --preload.
        preload = "preload_app" if config.endswith(".py") else "--preload"
        for fact in facts:
            for node, name in fact.resources_at_import:
                findings.append(
                    Finding(
                        fact.path,
                        node.lineno,
                        node.col_offset + 1,
                        "FD801",
                        f"`{name}(...)` at import, with {preload} in {config}:{line}",
                    )
                )
    return findings


def _no_factory(findings: list[Finding], facts: list[ModuleFacts]) -> list[Finding]:
    """Make FD201 a warning in a package with no app factory: the app is built at import.

    Binding at import is then how the one app is made, not a second binding beside the
    factory's; the finding stays, as a factory is what makes tests independent.
    """
    factories = {fact.package for fact in facts if fact.defines_factory}
    built = {fact.path for fact in facts if fact.package not in factories}
    return [
        replace(finding, message=f"{finding.message} ({NO_FACTORY})", severity="warning")
        if finding.rule == "FD201" and finding.path in built and finding.severity == "error"
        else finding
        for finding in findings
    ]


#: Why a view's change of module state made holding a lock is a warning.
UNDER_LOCK = "under a lock: a per-process store, whole between threads; each worker has its own"
#: Why an extension bound at import in an app with no factory is a warning.
NO_FACTORY = "an app with no factory, built at import: a factory would make tests independent"


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


def _deploy_files(paths: Iterable[Path]) -> Iterator[tuple[Path, Path]]:
    """Yield each Procfile, Dockerfile, compose file, script, unit or .env under `paths`.

    Folders are skipped as for Python files: hidden ones, environments, node_modules.
    """
    for path in paths:
        if not path.is_dir():
            if DEPLOY_FILE.match(path.name):
                yield path, Path(path.name)
            continue
        for folder, folders, names in os.walk(path):
            folders[:] = sorted(
                f for f in folders if not f.startswith(".") and f not in SKIPPED_DIRS
            )
            for name in sorted(names):
                if DEPLOY_FILE.match(name):
                    child = Path(folder, name)
                    yield child, child.relative_to(path)


def iter_python_files(paths: Iterable[Path]) -> Iterator[Path]:
    """Yield the Python files under `paths`, leaving out hidden folders and environments."""
    for file, _ in _python_files(paths):
        yield file


def _silenced(line: str) -> set[str] | None:
    """Return the rules a line's comments silence: None for all of them (a bare `# noqa`)."""
    rules: set[str] = set()
    for match in IGNORE_COMMENT.finditer(line):
        rules.update(re.split(r"[\s,]+", match.group(1).strip().upper()))
    for match in NOQA_COMMENT.finditer(line):
        if match.group("codes") is None:
            return None
        codes = re.split(r"[\s,]+", match.group("codes").upper())
        rules.update(FOREIGN_CODES.get(code, code) for code in codes)
    for match in NOSEC_COMMENT.finditer(line):
        words = re.split(r"[\s,]+", match.group("codes").strip())
        tests = [w.upper() if BANDIT_ID.match(w) else w for w in words if w]
        tests = [test for test in tests if BANDIT_ID.match(test) or test in FOREIGN_CODES]
        # A bare nosec (or one naming no test) is bandit's "all": the rules doctor shares.
        shared = [FOREIGN_CODES.get(test) for test in tests or ("B105", "B201")]
        rules.update(rule for rule in shared if rule)
    return rules


def _ignored(lines: Sequence[str], finding: Finding) -> bool:
    """Tell whether the finding's line carries a comment that silences its rule."""
    if not 0 < finding.line <= len(lines) or "#" not in lines[finding.line - 1]:
        return False
    rules = _silenced(lines[finding.line - 1])
    return rules is None or finding.rule in rules


# Configuration -------------------------------------------------------------------------
#: Skipped unless `default-exclude = false` (--no-default-exclude): example apps are read and
#: copied, not deployed; the project's docs hold snippets. Not a docs/ deeper down: a package
#: may hold an API-docs blueprint (`app/docs/`), which is production code.
DEFAULT_EXCLUDE = ("examples/", "/docs/", "/doc/")
#: The one rule test code keeps (a well-known placeholder secret in a test was copied from
#: somewhere, and will be copied on). The others are about production, where tests do not
#: run; in Flask's own test suite every one of their findings was a test doing it on purpose.
TEST_RULES = frozenset({"FD501"})
#: Jinja on the line a file fails to parse at (an expression, a tag or a comment), or a line
#: that is a Jinja tag: the file is a template, not Python yet. (Written with classes, [%],
#: so that this file holds no Jinja delimiter: the render's validation looks for them.)
JINJA_ON_LINE = re.compile(r"\{\{.*\}\}|\{[%].*[%]\}|\{[#].*[#]\}")
JINJA_TAG_LINE = re.compile(r"^\s*\{[%]-?\s*[a-z]+", re.MULTILINE)
JINJA_TEMPLATES = "Jinja templates"
#: [tool.flask-doctor]'s keys, and what to write for each.
CONFIG_KEYS = {
    "exclude": 'a list of globs, added to the defaults: exclude = ["scripts/legacy/"]',
    "default-exclude": "true or false: default-exclude = false checks examples/, docs/, tests",
    "select": 'a list of rule ids: select = ["FD101", "FD301"]',
    "ignore": 'a list of rule ids: ignore = ["FD302"]',
    "per-file-ignores": 'a table of glob = rule ids: per-file-ignores = {"scripts/*" = ["FD502"]}',
    "severity": 'a table of rule id = "error" or "warning": severity = {FD301 = "warning"}',
    "baseline": 'a file, from this one\'s folder: baseline = "doctor-baseline.json"',
}
SEVERITIES = ("error", "warning")


class ConfigError(ValueError):
    """A configuration doctor cannot follow: the message names the key and what to write."""


@dataclass(frozen=True)
class Options:
    """What the command line says: it wins over pyproject.toml's select, adds to the rest."""

    select: frozenset[str] = frozenset()
    ignore: frozenset[str] = frozenset()
    exclude: tuple[str, ...] = ()
    default_exclude: bool = True
    config: Path | None = None
    strict: bool = False
    baseline: Path | None = None
    write_baseline: Path | None = None

    @staticmethod
    def add_arguments(parser: argparse.ArgumentParser) -> None:
        """Add the options that configure a run to doctor's command line."""
        parser.add_argument(
            "--exclude", action="append", default=[], metavar="GLOB", help="also leave these out"
        )
        parser.add_argument(
            "--no-default-exclude",
            dest="default_exclude",
            action="store_false",
            help="check examples/, docs/, Jinja templates, and tests for every rule",
        )
        parser.add_argument("--config", type=Path, metavar="FILE", help="[tool.flask-doctor] here")
        parser.add_argument("--strict", action="store_true", help="exit 2 if a file is unchecked")
        parser.add_argument(
            "--baseline", type=Path, metavar="FILE", help="report only findings not in FILE"
        )
        parser.add_argument(
            "--write-baseline", type=Path, metavar="FILE", help="write the findings to FILE"
        )

    @classmethod
    def from_arguments(cls, args: argparse.Namespace) -> Options:
        """Return the options parsed by add_arguments."""
        exclude = [glob.strip() for value in args.exclude for glob in value.split(",")]
        return cls(
            exclude=tuple(filter(None, exclude)),
            default_exclude=args.default_exclude,
            config=args.config,
            strict=args.strict,
            baseline=args.baseline,
            write_baseline=args.write_baseline,
        )


@dataclass
class Settings:
    """[tool.flask-doctor] of one project, the command line's options added."""

    root: Path
    select: frozenset[str] = frozenset(RULES)
    exclude: tuple[str, ...] = DEFAULT_EXCLUDE
    default_exclude: bool = True
    per_file_ignores: dict[str, frozenset[str]] = field(default_factory=dict)
    severity: dict[str, str] = field(default_factory=dict)
    baseline: Path | None = None


def _glob_hit(pattern: str, parts: Sequence[str], start: int = 0) -> bool:
    """Tell whether a glob matches a file or a folder above it, as .gitignore does.

    `parts` is the file's path below the project root; only the names from `start` on are
    tried (a folder named on the command line is checked, as a file named is). A glob with a
    slash at its start or in its middle is matched from the root; one without, against each
    name; one ending in a slash, against folders only. `*` also crosses slashes.
    """
    body = pattern.strip("/")
    end = len(parts) - 1 if pattern.endswith("/") else len(parts)
    if pattern.startswith("/") or "/" in body:
        return any(fnmatch.fnmatchcase("/".join(parts[: i + 1]), body) for i in range(start, end))
    return any(fnmatch.fnmatchcase(name, body) for name in parts[start:end])


def _doctor_table(pyproject: Path) -> dict[str, object] | None:
    """Return [tool.flask-doctor] of a pyproject.toml, or None when it has none."""
    try:
        text = pyproject.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{pyproject}: cannot read: {error}") from error
    if "flask-doctor" not in text:
        return None  # Most projects: no TOML to parse.
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10, where Copier may run doctor.
        raise ConfigError(f"{pyproject}: reading [tool.flask-doctor] needs Python 3.11") from None
    try:
        tool = tomllib.loads(text).get("tool", {})
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{pyproject}: not valid TOML: {error}") from error
    table = tool.get("flask-doctor") if isinstance(tool, dict) else None
    if table is not None and not isinstance(table, dict):
        raise ConfigError(f"{pyproject}: [tool.flask-doctor] must be a table")
    return table


def _find_config(path: Path) -> tuple[Path, Path | None, dict[str, object]]:
    """Return the project root above `path`, its pyproject.toml and [tool.flask-doctor].

    The nearest pyproject.toml with the table wins; without one, the nearest pyproject.toml
    still marks the root (where docs/ is looked for), else the folder given.
    """
    folder = path.resolve() if path.is_dir() else path.resolve().parent
    nearest = None
    for candidate in (folder, *folder.parents):
        pyproject = candidate / "pyproject.toml"
        if pyproject.is_file():
            nearest = nearest or candidate
            table = _doctor_table(pyproject)
            if table is not None:
                return candidate, pyproject, table
    return nearest or folder, None, {}


def _strings(table: dict[str, object], key: str, where: str) -> list[str]:
    """Return a list of strings from the table, or raise ConfigError saying what to write."""
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ConfigError(f"{where}: `{key}` must be {CONFIG_KEYS[key]}")
    return value


def _config_rules(values: list[str], key: str, where: str) -> frozenset[str]:
    """Return rule ids named under `key`, or raise ConfigError naming the unknown one."""
    try:
        return frozenset(_rule_ids(values))
    except ValueError as error:
        raise ConfigError(f"{where}: `{key}`: {error}") from None


def _table(table: dict[str, object], key: str, where: str) -> dict[str, object]:
    """Return a sub-table, or raise ConfigError saying what to write."""
    value = table.get(key, {})
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: `{key}` must be {CONFIG_KEYS[key]}")
    return value


def load_settings(path: Path, options: Options = Options()) -> Settings:
    """Read [tool.flask-doctor] for `path` (or --config) and add the command line to it."""
    pyproject: Path | None = options.config
    if options.config is not None:
        root = options.config.resolve().parent
        table = _doctor_table(options.config)
        if table is None:
            raise ConfigError(f"{options.config}: no [tool.flask-doctor] table in it")
    else:
        root, pyproject, table = _find_config(path)
    where = f"[tool.flask-doctor] in {pyproject}"
    for key in sorted(table.keys() - CONFIG_KEYS.keys()):
        import difflib

        close = difflib.get_close_matches(key, CONFIG_KEYS, n=1)
        hint = f"did you mean `{close[0]}`? " if close else ""
        raise ConfigError(f"{where}: unknown key `{key}`; {hint}known: {', '.join(CONFIG_KEYS)}")
    default = table.get("default-exclude", True)
    if not isinstance(default, bool):
        raise ConfigError(f"{where}: `default-exclude` must be {CONFIG_KEYS['default-exclude']}")
    default = default and options.default_exclude
    select = options.select or _config_rules(_strings(table, "select", where), "select", where)
    ignore = options.ignore | _config_rules(_strings(table, "ignore", where), "ignore", where)
    per_file: dict[str, frozenset[str]] = {}
    for glob, rules in _table(table, "per-file-ignores", where).items():
        if not isinstance(rules, list) or not all(isinstance(rule, str) for rule in rules):
            raise ConfigError(
                f"{where}: `per-file-ignores` must be {CONFIG_KEYS['per-file-ignores']}"
            )
        per_file[glob] = _config_rules(rules, f"per-file-ignores.{glob}", where)
    severity: dict[str, str] = {}
    for rule, level in _table(table, "severity", where).items():
        if level not in SEVERITIES:
            raise ConfigError(f'{where}: `severity.{rule}` must be "error" or "warning"')
        (rule_id,) = _config_rules([rule], "severity", where)
        severity[rule_id] = str(level)
    baseline = table.get("baseline")
    if baseline is not None and not isinstance(baseline, str):
        raise ConfigError(f"{where}: `baseline` must be {CONFIG_KEYS['baseline']}")
    return Settings(
        root=root,
        select=(select or frozenset(RULES)) - ignore,
        exclude=(
            *(DEFAULT_EXCLUDE if default else ()),
            *_strings(table, "exclude", where),
            *options.exclude,
        ),
        default_exclude=default,
        per_file_ignores=per_file,
        severity=severity,
        baseline=root / baseline if baseline else None,
    )


def _parts_below(root: Path, path: Path) -> tuple[str, ...]:
    """Return the folder of `path` below the project root, as names (none outside the root)."""
    folder = path.resolve() if path.is_dir() else path.resolve().parent
    try:
        return folder.relative_to(root).parts
    except ValueError:
        return ()


def _is_jinja(text: str, error: SyntaxError | ValueError) -> bool:
    """Tell whether a file that did not parse is a Jinja template of Python."""
    lines = text.splitlines()
    line = getattr(error, "lineno", None) or 0
    failing = lines[line - 1] if 0 < line <= len(lines) else ""
    return bool(JINJA_ON_LINE.search(failing) or JINJA_TAG_LINE.search(text))


@dataclass(frozen=True)
class Limit:
    """A file this run could not check, and why: a limit of the run, not a finding."""

    path: str
    line: int
    message: str

    def as_text(self) -> str:
        """Say where and why, for stderr."""
        return f"{self.path}:{self.line}: not checked: {self.message}"


@dataclass
class Report:
    """What one run found, what it could not check, and what stopped it reading a file."""

    findings: list[Finding] = field(default_factory=list)
    limits: list[Limit] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    #: Files left out, by the glob that left them out (or JINJA_TEMPLATES).
    skipped: dict[str, int] = field(default_factory=dict)
    #: Findings in test code of rules that are about production only.
    spared: int = 0
    #: What the baseline left out, or that one was written.
    baseline_note: str = ""

    def notes(self) -> list[str]:
        """Say in a line each what was skipped (and how to check it) and what the baseline did."""
        return [note for note in (self._skip_note(), self.baseline_note) if note]

    def _skip_note(self) -> str:
        if not self.skipped and not self.spared:
            return ""
        files = sum(self.skipped.values())
        what = ", ".join(f"{reason} {count}" for reason, count in self.skipped.items())
        parts = [f"{files} file(s) ({what})"] if files else []
        if self.spared:
            parts.append(f"{self.spared} finding(s) in tests of rules about production")
        defaults = self.spared or self.skipped.keys() & {*DEFAULT_EXCLUDE, JINJA_TEMPLATES}
        hint = "; --no-default-exclude checks them" if defaults else ""
        return f"Skipped {' and '.join(parts)}{hint}."


#: Run by a newer interpreter: parse the files named on stdin; print its version and those
#: that parse.
PARSE_PROBE = """
import ast, json, sys
parsed = []
for path in json.load(sys.stdin):
    try:
        with open(path, "rb") as file:
            ast.parse(file.read(), path)
    except (SyntaxError, ValueError, OSError):
        continue
    parsed.append(path)
print(json.dumps({"version": "%d.%d" % sys.version_info[:2], "parsed": parsed}))
"""
#: A version folder of pyenv (3.12.1) or uv (cpython-3.12.4-linux-x86_64-gnu); not 3.13t.
MANAGED_VERSION = re.compile(r"(?:cpython-)?3\.(\d+)\.\d+(?:-|$)")


def newer_pythons() -> dict[tuple[int, int], str]:
    """Find interpreters newer than this one: pyenv's and uv's, then python3.N on PATH."""
    here = sys.version_info[:2]
    found: dict[tuple[int, int], str] = {}
    home = os.path.expanduser("~")
    managed = (
        (f"{os.environ.get('PYENV_ROOT') or f'{home}/.pyenv'}/versions", "bin/python"),
        (
            os.environ.get("UV_PYTHON_INSTALL_DIR") or f"{home}/.local/share/uv/python",
            "bin/python3",
        ),
    )
    for folder, name in managed:
        for candidate in sorted(Path(folder).glob(f"*/{name}")):
            match = MANAGED_VERSION.match(candidate.parent.parent.name)
            if match and (3, int(match.group(1))) > here:
                found.setdefault((3, int(match.group(1))), str(candidate))
    for minor in range(here[1] + 1, here[1] + 10):
        on_path = shutil.which(f"python3.{minor}")
        # pyenv's shims fail for a version that is installed but not selected.
        if on_path and Path(on_path).parent.name != "shims":
            found.setdefault((3, minor), on_path)
    return dict(sorted(found.items()))


def _parsed_by(executable: str, paths: list[str]) -> tuple[str, list[str]] | None:
    """Return another interpreter's version and which of `paths` it parses; None if it fails."""
    import subprocess

    try:
        # S603: the interpreter was found above; the files go in as data on stdin.
        result = subprocess.run(  # noqa: S603
            [executable, "-I", "-c", PARSE_PROBE],
            input=json.dumps(paths),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        answer = json.loads(result.stdout) if result.returncode == 0 else None
    except (OSError, subprocess.SubprocessError, ValueError):
        return None
    if not isinstance(answer, dict) or not isinstance(answer.get("parsed"), list):
        return None
    return str(answer.get("version")), [p for p in answer["parsed"] if isinstance(p, str)]


def _parse_limits(failures: dict[str, SyntaxError | ValueError]) -> list[Limit]:
    """Say, for each file this Python cannot parse, which newer Python here can, if any.

    Only to name the version: the AST stays in this process, so the file is not checked.
    """
    here = "{}.{}".format(*sys.version_info[:2])
    left = dict(failures)
    needs: dict[str, str] = {}
    tried: list[str] = []
    candidates = newer_pythons() if failures else {}
    for executable in candidates.values():
        answer = _parsed_by(executable, list(left))
        if answer is None:
            continue
        version, parsed = answer
        tried.append(version)
        for path in set(parsed) & left.keys():
            del left[path]
            needs[path] = f"needs Python {version} (this is {here}): run doctor with {executable}"
        if not left:
            break
    limits = []
    for path, error in failures.items():
        if path in needs:
            message = needs[path]
        else:
            reason = error.msg if isinstance(error, SyntaxError) else str(error)
            also = f", nor can {', '.join(tried)}" if tried else " (no newer Python found to try)"
            message = f"Python {here} cannot parse it: {reason}{also}"
        limits.append(Limit(path, getattr(error, "lineno", None) or 1, message))
    return limits


# Baseline ------------------------------------------------------------------------------
BaselineKey = tuple[str, str, str, int]


def _baseline_keys(
    findings: Sequence[Finding], sources: dict[str, list[str]], folder: Path
) -> list[BaselineKey]:
    """Key each finding by what survives lines moving, not by its line number.

    Its file (from the baseline's folder), its rule, a hash of its line's stripped text (a
    hash: the line may hold the secret), and which of the same three it is, counted down
    the file.
    """
    import hashlib

    seen: dict[tuple[str, str, str], int] = {}
    keys = []
    for finding in findings:
        lines = sources.get(finding.path, [])
        text = lines[finding.line - 1].strip() if 0 < finding.line <= len(lines) else ""
        path = Path(os.path.relpath(Path(finding.path).resolve(), folder)).as_posix()
        same = (path, finding.rule, hashlib.sha256(text.encode()).hexdigest()[:16])
        keys.append((*same, seen.get(same, 0)))
        seen[same] = seen.get(same, 0) + 1
    return keys


def _read_baseline(baseline: Path) -> dict[BaselineKey, int]:
    """Return the keys a baseline holds, with how often; raise ConfigError if it is not one."""
    hint = f"write it with --write-baseline {baseline}"
    try:
        entries = json.loads(baseline.read_text(encoding="utf-8"))["findings"]
        keys = [(e["path"], e["rule"], e["fingerprint"], int(e["occurrence"])) for e in entries]
    except FileNotFoundError:
        raise ConfigError(f"no baseline at {baseline}: {hint}") from None
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ConfigError(f"{baseline} is not a doctor baseline ({error}): {hint}") from None
    counts: dict[BaselineKey, int] = {}
    for key in keys:
        counts[key] = counts.get(key, 0) + 1
    return counts


def _write_baseline(baseline: Path, report: Report, sources: dict[str, list[str]]) -> None:
    """Write the report's findings as a baseline; say so in the report."""
    keys = _baseline_keys(report.findings, sources, baseline.resolve().parent)
    entries = [
        {
            "path": path,
            "rule": rule,
            "fingerprint": digest,
            "occurrence": index,
            "message": f.message,
        }
        for (path, rule, digest, index), f in zip(keys, report.findings, strict=True)
    ]
    text = json.dumps({"doctor-baseline": 1, "findings": entries}, indent=2)
    baseline.write_text(f"{text}\n", encoding="utf-8")
    report.baseline_note = (
        f"Wrote {len(entries)} finding(s) to {baseline}: with --baseline {baseline}, or "
        f'baseline = "{baseline.name}" in [tool.flask-doctor], only new ones are reported.'
    )
    report.findings = []


def _apply_baseline(baseline: Path, report: Report, sources: dict[str, list[str]]) -> None:
    """Leave out the findings the baseline holds; count its entries no longer found."""
    known = _read_baseline(baseline)
    folder = baseline.resolve().parent
    new = []
    for finding, key in zip(
        report.findings, _baseline_keys(report.findings, sources, folder), strict=True
    ):
        if known.get(key, 0) > 0:
            known[key] -= 1
        else:
            new.append(finding)
    left_out = len(report.findings) - len(new)
    # Entries for files this run did not read (another folder, excluded) are not stale.
    read = {Path(os.path.relpath(Path(path).resolve(), folder)).as_posix() for path in sources}
    stale = sum(count for key, count in known.items() if key[0] in read)
    note = f"Left out {left_out} finding(s) in the baseline {baseline}"
    if stale:
        note += f"; {stale} of its entries no longer match (fixed?): "
        note += f"--write-baseline {baseline} drops them"
    report.findings, report.baseline_note = new, f"{note}."


@dataclass(frozen=True)
class _Place:
    """Where a checked file stands: its project's settings, path below the root, test or not."""

    settings: Settings
    parts: tuple[str, ...]
    test_code: bool


def analyse(paths: Iterable[Path], options: Options = Options()) -> Report:
    """Check every Python file under `paths` as configured; raise ConfigError on a bad one.

    A folder is searched leaving out what its project excludes; a file named is checked.
    """
    report = Report()
    facts: list[ModuleFacts] = []
    sources: dict[str, list[str]] = {}
    places: dict[str, _Place] = {}
    unparsed: dict[str, SyntaxError | ValueError] = {}
    modules: list[tuple[Path, str, str]] = []  # read first: the pre-pass needs them all
    deployed: list[tuple[Path, str, str]] = []
    by_folder: dict[Path, Settings] = {}  # pre-commit may name a thousand files of one project
    for path in paths:
        folder = path.resolve() if path.is_dir() else path.resolve().parent
        if folder not in by_folder:
            by_folder[folder] = load_settings(path, options)
        settings = by_folder[folder]
        prefix = _parts_below(settings.root, path)
        deploy = not path.is_dir() and bool(DEPLOY_FILE.match(path.name))
        for (file, relative), is_python in [
            *((found, True) for found in ([] if deploy else _python_files([path]))),
            *((found, False) for found in _deploy_files([path])),
        ]:
            shown, parts = str(file), (*prefix, *relative.parts)
            skip = path.is_dir() and next(
                (glob for glob in settings.exclude if _glob_hit(glob, parts, len(prefix))), None
            )
            if skip:
                report.skipped[skip] = report.skipped.get(skip, 0) + 1
                continue
            try:
                text = file.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as error:
                report.errors.append(f"{shown}: cannot read: {error}")
                continue
            sources[shown] = text.splitlines()
            # Test code is told below the project root (else the folder given), not from the
            # whole path: a service checked out in a folder named tests is production code.
            places[shown] = _Place(settings, parts, is_test_path(Path(*parts)))
            (modules if is_python else deployed).append((file, shown, text))
    # Deploy files first: a module that `gunicorn -c FILE.py` names is gunicorn's config.
    configs: set[Path] = set()
    deploy_facts: list[ModuleFacts] = []
    for file, shown, text in deployed:
        found, preload, config_files = check_deploy_file(
            file, shown, text, places[shown].settings.root
        )
        report.findings += found
        configs.update(config_files)
        if preload is not None:
            deploy_facts.append(ModuleFacts(shown, file, preload_line=preload))
    # The pre-pass: a subclass of Flask, a view or task base, may be defined in another file.
    project = project_model(text for _, _, text in modules)
    for file, shown, text in modules:
        settings = places[shown].settings
        try:
            found, fact = check_source(
                text, shown, real_path=file, test_code=places[shown].test_code, project=project
            )
        except (SyntaxError, ValueError) as error:
            if settings.default_exclude and _is_jinja(text, error):
                report.skipped[JINJA_TEMPLATES] = report.skipped.get(JINJA_TEMPLATES, 0) + 1
            else:
                unparsed[shown] = error
            continue
        if file.resolve() in configs and not GUNICORN_CONFIG.search(file.name):
            found_config, fact.preload_line = _gunicorn_checks(
                file.resolve(), shown, ast.parse(text)
            )
            found += found_config
        report.findings += found
        facts.append(fact)
    facts += deploy_facts
    found, report.findings = _no_factory(report.findings + _cross_file(facts), facts), []
    for finding in sorted(set(found)):
        place = places[finding.path]
        if _ignored(sources[finding.path], finding) or finding.rule not in place.settings.select:
            continue
        if any(
            finding.rule in rules and _glob_hit(glob, place.parts)
            for glob, rules in place.settings.per_file_ignores.items()
        ):
            continue
        if place.test_code and place.settings.default_exclude and finding.rule not in TEST_RULES:
            report.spared += 1
            continue
        # The configuration's word wins; else the finding's own (a context doctor knows as
        # harmless lowers it to a warning), else its rule's.
        severity = place.settings.severity.get(finding.rule, finding.severity)
        report.findings.append(replace(finding, severity=severity))
    report.limits = _parse_limits(unparsed)
    named = {place.settings.baseline for place in places.values()} - {None}
    if len(named) > 1 and not options.baseline:
        raise ConfigError(f"the paths name {len(named)} baselines: run doctor once per project")
    baseline = options.baseline or next(iter(named), None)
    if options.write_baseline:
        _write_baseline(options.write_baseline, report, sources)
    elif baseline is not None:
        _apply_baseline(baseline, report, sources)
    return report


def check_paths(paths: Iterable[Path], errors: list[str] | None = None) -> list[Finding]:
    """Check every Python file under `paths` as configured; note unreadable ones in `errors`."""
    report = analyse(paths)
    if errors is not None:
        errors += report.errors
    return report.findings


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
    *,
    options: Options | None = None,
) -> tuple[str, list[str], int]:
    """Check `paths`; return the report, the messages for stderr and the exit status.

    Only findings of severity error fail the run (1). A file this Python cannot parse is a
    limit of the run, said on stderr: it fails the run (2, as an unreadable file does) only
    with `options.strict`. What was skipped ends the text report; with json, stderr.
    """
    options = options or Options()
    try:
        selected, ignored = _rule_ids(select), _rule_ids(ignore)
    except ValueError as error:
        return "", [str(error)], 2
    missing = [str(path) for path in paths if not path.exists()]
    if missing:
        return "", [f"no such file or folder: {', '.join(missing)}"], 2
    try:
        result = analyse(
            paths,
            replace(options, select=options.select | selected, ignore=options.ignore | ignored),
        )
    except ConfigError as error:
        return "", [str(error)], 2
    findings, notes = result.findings, result.notes()
    failing = [finding for finding in findings if finding.severity == "error"]
    report = FORMATS[output](findings)
    # What was skipped or baselined: under a text report, else on stderr (stdout is data).
    if output == "text":
        report = "\n".join(line for line in (report, *notes) if line)
    errors = [*result.errors, *(limit.as_text() for limit in result.limits)]
    errors += notes if output != "text" else []
    failed = result.errors or (options.strict and result.limits)
    return report, errors, 2 if failed else int(bool(failing))


def main(argv: Sequence[str] | None = None) -> int:
    """Run doctor from the command line and return its exit status."""
    parser = argparse.ArgumentParser(prog="doctor", description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    parser.add_argument("--format", choices=tuple(FORMATS), default="text")
    parser.add_argument("--select", action="append", default=[], help="only these rule ids")
    parser.add_argument("--ignore", action="append", default=[], help="not these rule ids")
    Options.add_arguments(parser)
    args = parser.parse_args(argv)
    report, errors, status = run(
        args.paths, args.select, args.ignore, args.format, options=Options.from_arguments(args)
    )
    if report:
        print(report)
    for error in errors:
        print(f"doctor: {error}", file=sys.stderr)
    return status


if __name__ == "__main__":
    raise SystemExit(main())
