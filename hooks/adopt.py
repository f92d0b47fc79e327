"""Bring an existing Flask service under the template: `python -m hooks adopt PATH`.

The service's repository gets a new branch holding the template's render, with every file the
service already has left as it is: where both have a file, the template's version is written
next to it (`<name>.template`) for a person to merge. `.copier-answers.yml` comes with it, so
`copier update` and `fleet` work from then on. The answers are guessed from the service (its
package, dependencies and Python) where they can be, and given (`--data`, a presets file) or
asked for the rest. The report says what was added, what to merge and in which order, and
which doctor findings to fix first.
"""

from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from hooks.answers import TEMPLATE, load_questions
from hooks.dependencies import package_name, split_lists
from hooks.doctor import RULES, Finding, Options, analyse, check_paths

#: The branch adopt makes in the service's repository.
BRANCH = "adopt/copier-flask-service"
#: What the template's version of a file the service has is called, next to it.
SUFFIX = ".template"
#: Folders no service's own code is in.
NOT_OURS = {".git", ".venv", "venv", "env", "node_modules", "build", "dist", "__pycache__"}
#: Which doctor findings to fix first, in this order: credentials, a debugger or dev server
#: in production, then what stands between the code and the template's app factory.
FIX_FIRST = ("FD501", "FD502", "FD503", "FD201", "FD202", "FD101", "FD301", "FD302", "FD304")
#: Drivers that say which database a service of SQLAlchemy uses.
POSTGRES_DRIVERS = {
    "psycopg",
    "psycopg2",
    "psycopg2-binary",
    "psycopg-binary",
    "asyncpg",
    "pg8000",
}


class Refused(Exception):
    """The folder cannot be adopted as it is; the message says why and what to do."""


@dataclass
class Guess:
    """An answer read off the service, and where it was read."""

    value: object
    source: str


@dataclass
class Adoption:
    """What adopt did to a service's repository."""

    root: Path
    branch: str
    answers: dict[str, object]
    guesses: dict[str, Guess]
    added: list[str] = field(default_factory=list)
    beside: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)


def git(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run git in `root`."""
    return subprocess.run(  # noqa: S603 (git, our own arguments)
        ["git", *args],  # noqa: S607
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def python_files(root: Path) -> Iterator[Path]:
    """Yield the service's own Python files, not its environments' or builds'."""
    for path in sorted(root.rglob("*.py")):
        if not NOT_OURS.intersection(path.relative_to(root).parts):
            yield path


def makes_flask(node: ast.AST) -> bool:
    """Return whether `node` is a call of Flask(...) (or flask.Flask(...))."""
    if not isinstance(node, ast.Call):
        return False
    return getattr(node.func, "id", getattr(node.func, "attr", None)) == "Flask"


def makes_a_flask_app(path: Path) -> bool:
    """Return whether the module calls Flask(...) anywhere."""
    try:
        tree = ast.parse(path.read_bytes())
    except (SyntaxError, ValueError):
        return False
    return any(makes_flask(node) for node in ast.walk(tree))


def module_name(path: Path, root: Path) -> str:
    """Return the dotted name `path` is imported by from `root`."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def app_spec(root: Path) -> Guess | None:
    """Return where the service's app is: `module:name`, or `module:factory()`."""
    for path in python_files(root):
        if "tests" in path.relative_to(root).parts or not makes_a_flask_app(path):
            continue
        tree = ast.parse(path.read_bytes())
        module = module_name(path, root)
        for node in tree.body:
            if (
                isinstance(node, ast.Assign)
                and makes_flask(node.value)
                and isinstance(node.targets[0], ast.Name)
            ):
                return Guess(f"{module}:{node.targets[0].id}", "the app made at import")
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and any(map(makes_flask, ast.walk(node))):
                return Guess(f"{module}:{node.name}()", "its app factory")
    return None


def refusal(root: Path) -> str | None:
    """Return why `root` cannot be adopted, or None."""
    if not root.is_dir():
        return f"{root} is not a folder"
    inside = git(root, "rev-parse", "--show-toplevel")
    if inside.returncode != 0:
        return f"{root} is not a git repository: adopt works on a branch of it (git init first)"
    if git(root, "status", "--porcelain").stdout.strip():
        return (
            f"{root} has uncommitted changes: commit or stash them, so the branch holds only ours"
        )
    answers = root / ".copier-answers.yml"
    if answers.is_file():
        source = (yaml.safe_load(answers.read_text()) or {}).get("_src_path", "an unknown source")
        if "copier-flask-service" in str(source) or Path(str(source)) == TEMPLATE:
            return f"{root} is already generated from this template ({source}): run copier update"
        return (
            f"{root} is generated from another template ({source}): its .copier-answers.yml "
            "is that template's, and adopt would take its place; move it aside first"
        )
    if not any(makes_a_flask_app(path) for path in python_files(root)):
        return f"{root} is not a Flask app: no module of it calls Flask(...)"
    return None


def requirements(root: Path, *, every: bool = False) -> tuple[list[str], list[str]]:
    """Return the service's requirement strings, and the files that hold them.

    `[project] dependencies` and requirements*.txt; with `every`, also its extras and
    dependency groups (what it may use, for the guesses).
    """
    found: list[str] = []
    sources: list[str] = []
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        data = tomllib.loads(pyproject.read_text())
        project = data.get("project", {})
        found += project.get("dependencies", [])
        if every:
            for extra in project.get("optional-dependencies", {}).values():
                found += extra
            for group in data.get("dependency-groups", {}).values():
                found += [item for item in group if isinstance(item, str)]
        sources.append("pyproject.toml")
    for path in sorted(root.glob("requirements*.txt")):
        for line in path.read_text().splitlines():
            line = line.split(" #", 1)[0].strip()
            if line and not line.startswith(("#", "-")) and "://" not in line:
                found.append(line)
        sources.append(path.name)
    return found, sources


def dependencies(root: Path) -> tuple[set[str], str]:
    """Return the distributions the service depends on, and the files that said so."""
    lines, sources = requirements(root, every=True)
    return {package_name(line) for line in lines}, ", ".join(sources) or "no dependency file"


def carry_dependencies(pyproject: Path, wanted: list[str]) -> list[str]:
    """Add to the template's `[project] dependencies` what the service needs that it lacks."""
    text = pyproject.read_text()
    _, lists = split_lists(text)
    have = {entry.name for entry in lists["project.dependencies"].entries}
    missing = [line for line in dict.fromkeys(wanted) if package_name(line) not in have]
    if not missing:
        return []
    lines = text.splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.startswith("dependencies = ["))
    end = next(i for i in range(start, len(lines)) if lines[i].startswith("]"))
    added = ["    # The service's own, from before the template (hooks adopt).\n"]
    added += [f"    {json.dumps(line)},\n" for line in missing]
    pyproject.write_text("".join(lines[:end] + added + lines[end:]))
    return missing


def offered_python(wanted: str, offered: list[str]) -> str:
    """Return the offered version for a service of Python `wanted`: it, or the next one up."""
    key = [int(part) for part in wanted.split(".")[:2]]
    for version in offered:
        if [int(part) for part in version.split(".")] >= key:
            return version
    return offered[-1]


def guess(root: Path) -> dict[str, Guess]:
    """Return the answers the service's files tell, each with where it was read."""
    questions = load_questions()
    offered = sorted(
        questions["python_version"]["choices"].values(),
        key=lambda version: [int(part) for part in version.split(".")],
    )
    found: dict[str, Guess] = {}
    names, said = dependencies(root)
    pyproject = root / "pyproject.toml"
    project = (
        tomllib.loads(pyproject.read_text()).get("project", {}) if pyproject.is_file() else {}
    )

    slug = re.sub(r"[^a-z0-9]+", "-", str(project.get("name") or root.name).lower()).strip("-")
    source = "pyproject.toml's name" if project.get("name") else "the folder's name"
    found["project_slug"] = Guess(slug, source)
    found["project_name"] = Guess(slug.replace("-", " ").title(), source)
    package = re.sub(r"\W", "_", slug.replace("-", "_"))
    # The template's package sits beside the service's own code until that moves in: never
    # under the name of a module or package the service already has (`yaml_service`, as the
    # template names a reserved one).
    taken = {path.stem for path in root.glob("*.py")} | {
        path.parent.name for path in root.glob("*/__init__.py")
    }
    if package in taken:
        found["package_name"] = Guess(
            f"{package}_service", f"{source}; `{package}` is the service's own"
        )
    else:
        found["package_name"] = Guess(package, source)

    version_file = root / ".python-version"
    wanted = None
    if version_file.is_file():
        wanted, source = version_file.read_text().split()[0], ".python-version"
    elif found_range := re.search(r"(\d+\.\d+)", str(project.get("requires-python", ""))):
        wanted, source = found_range[1], "pyproject.toml's requires-python"
    if wanted and re.fullmatch(r"\d+\.\d+(\.\d+)?", wanted):
        version = offered_python(wanted, offered)
        note = "" if version == ".".join(wanted.split(".")[:2]) else f" ({wanted} is not offered)"
        found["python_version"] = Guess(version, source + note)

    if names & {"flask-sqlalchemy", "sqlalchemy"}:
        kind = "postgresql" if names & POSTGRES_DRIVERS else "sqlite"
        found["database"] = Guess(
            kind,
            f"SQLAlchemy{' and a PostgreSQL driver' if kind == 'postgresql' else ''} in {said}",
        )
    else:
        found["database"] = Guess("none", f"no SQLAlchemy in {said}")
    found["celery"] = Guess(
        "celery" in names, f"{'' if 'celery' in names else 'no '}celery in {said}"
    )
    if "celery" in names:
        broker = (
            "rabbitmq" if names & {"amqp", "librabbitmq"} and "redis" not in names else "redis"
        )
        found["celery_broker"] = Guess(broker, f"the broker client in {said}")
    for key, distributions in (
        ("sentry", {"sentry-sdk", "raven"}),
        ("opentelemetry", {name for name in names if name.startswith("opentelemetry-")}),
        ("metrics", {"prometheus-client", "prometheus-flask-exporter"}),
    ):
        if names & distributions:
            found[key] = Guess(True, f"{sorted(names & distributions)[0]} in {said}")
    if "gevent" in names:
        found["worker_class"] = Guess("gevent", f"gevent in {said}")
    if (root / "Dockerfile").is_file():
        found["docker"] = Guess(True, "its Dockerfile")
    if (root / ".github" / "workflows").is_dir():
        found["ci"] = Guess("github", "its .github/workflows/")
    elif (root / ".gitlab-ci.yml").is_file():
        found["ci"] = Guess("gitlab", "its .gitlab-ci.yml")
    return found


def render(
    template: str, ref: str | None, answers: dict[str, object], ask: bool, into: Path
) -> None:
    """Render the template with `answers` into `into` (Copier asks the rest when `ask`)."""
    data = into.parent / "answers.yml"
    data.write_text(yaml.safe_dump(answers))
    command = [sys.executable, "-m", "copier", "copy", "--trust", "--data-file", str(data)]
    command += [] if ask else ["--defaults"]
    command += ["--vcs-ref", ref] if ref else []
    result = subprocess.run(  # noqa: S603 (this environment's Copier)
        [*command, template, str(into)],
        capture_output=not ask,
        text=True,
        check=False,
        timeout=900,
    )
    if result.returncode != 0:
        said = (result.stderr or "").strip().splitlines()[-1:] or ["Copier failed"]
        raise Refused(f"the template could not be rendered with these answers: {said[0]}")


def place(rendered: Path, root: Path) -> tuple[list[str], list[str]]:
    """Copy the render into `root`: new files as they are, the rest beside the service's own."""
    added, beside = [], []
    for path in sorted(rendered.rglob("*")):
        relative = path.relative_to(rendered)
        if path.is_dir() or ".git" in relative.parts:
            continue
        target = root / relative
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
            added.append(relative.as_posix())
        elif target.read_bytes() != path.read_bytes():
            shutil.copy2(path, target.with_name(target.name + SUFFIX))
            beside.append(relative.as_posix())
    return added, beside


def bridge(root: Path, package: str, spec: str) -> list[str]:
    """Write the feature that serves the service's app behind the template's; return it.

    Its setting goes where the generated tests look for every setting: `.env.example` and the
    README's settings table (the template's versions, wherever `place` put them).
    """
    feature = Path("src", package, "features", "adopted.py")
    text = (Path(__file__).with_name("adopted_feature.py.tmpl")).read_text()
    (root / feature).write_text(text.replace("__ADOPTED_APP__", json.dumps(spec)))
    for name in (".env.example", ".env.example" + SUFFIX):
        if (root / name).is_file():
            with (root / name).open("a") as example:
                example.write(
                    "\n# The service's app from before the template (hooks adopt), which answers"
                    f" what no route here matches\n# (module:name or module:factory(); default"
                    f" {spec})\nADOPTED_APP=\n"
                )
    row = (
        f"| `ADOPTED_APP` | `{spec}` | the app from before the template: it answers what no"
        " route here matches |"
    )
    for name in ("README.md", "README.md" + SUFFIX):
        readme = root / name
        if readme.is_file() and "| `APP_ENV` |" in readme.read_text():
            lines = readme.read_text().splitlines(keepends=True)
            at = next(i for i, line in enumerate(lines) if line.startswith("| `APP_ENV` |"))
            while at < len(lines) and lines[at].startswith("| `"):
                at += 1
            lines.insert(at, row + "\n")
            readme.write_text("".join(lines))
    return [feature.as_posix()]


def baseline(root: Path, pyproject: Path) -> str:
    """Write doctor's baseline of the service's findings, named in the template's pyproject.

    The template's validation of every update, and the service's own doctor test, then hold
    new code to every rule and leave what was there for the owners to fix (the report lists
    it); the README's "Adopting doctor on an existing codebase" says how it works.
    """
    name = "doctor-baseline.json"
    analyse([root], Options(write_baseline=root / name))
    with pyproject.open("a") as table:
        table.write(
            "\n[tool.flask-doctor]\n# Doctor's findings when the service was adopted (hooks"
            " adopt): fix them, then remove\n# this line and the file. New code is held to"
            f' every rule.\nbaseline = "{name}"\n'
        )
    return name


def merge_order(path: str) -> tuple[int, str]:
    """Sort what to merge: what installs, then the app, its tests, serving, CI, the docs."""
    steps = (
        ("pyproject.toml", "uv.lock", "requirements"),
        ("src/",),
        ("tests/",),
        (
            "gunicorn.conf.py",
            "Dockerfile",
            "compose.yaml",
            "Makefile",
            ".env",
            "proxy/",
            "deploy/",
        ),
        (".github/", ".gitlab-ci.yml", "renovate.json", ".pre-commit"),
    )
    for rank, prefixes in enumerate(steps):
        if path.startswith(prefixes):
            return rank, path
    return len(steps), path


def adopt(
    root: Path,
    template: str = str(TEMPLATE),
    ref: str | None = None,
    given: dict[str, object] | None = None,
    ask: bool = False,
    branch: str = BRANCH,
) -> Adoption:
    """Adopt the service at `root` on a new branch; raise Refused with what to do instead."""
    root = root.resolve()
    reason = refusal(root)
    if reason:
        raise Refused(reason)
    if git(root, "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}").returncode == 0:
        raise Refused(f"the branch {branch} exists already: delete it, or name another")
    guesses = guess(root)
    answers = {key: found.value for key, found in guesses.items()} | (given or {})
    findings = check_paths([root])
    with tempfile.TemporaryDirectory(prefix="adopt-") as temporary:
        rendered = Path(temporary) / "render"
        render(template, ref, answers, ask, rendered)
        recorded = yaml.safe_load((rendered / ".copier-answers.yml").read_text())
        switched = git(root, "switch", "-q", "-c", branch)
        if switched.returncode != 0:
            raise Refused(f"git could not make the branch {branch}: {switched.stderr.strip()}")
        added, beside = place(rendered, root)
        package = recorded["package_name"]
        # The service's dependencies go into the template's pyproject.toml, wherever it is.
        pyproject = next(
            root / name
            for name in ("pyproject.toml" + SUFFIX, "pyproject.toml")
            if name.endswith(SUFFIX) == (name not in added) and (root / name).is_file()
        )
        carry_dependencies(pyproject, requirements(root)[0])
        if findings:
            added.append(baseline(root, pyproject))
        spec = app_spec(root)
        if spec:
            added += bridge(root, package, str(spec.value))
            guesses["ADOPTED_APP"] = spec
    git(root, "add", "-A")
    message = f"Adopt copier-flask-service {recorded.get('_commit', '')}: its files, ours kept"
    committed = git(root, "commit", "-q", "--no-verify", "-m", message)
    if committed.returncode != 0:
        raise Refused(f"git could not commit the adoption: {committed.stderr.strip()}")
    return Adoption(
        root,
        branch,
        {key: value for key, value in recorded.items() if not key.startswith("_")},
        guesses,
        added,
        sorted(beside, key=merge_order),
        findings,
    )


def relative(path: str, root: Path) -> str:
    """Return `path` as seen from the service's folder."""
    return Path(path).relative_to(root).as_posix() if Path(path).is_absolute() else path


def by_priority(findings: Iterable[Finding]) -> list[Finding]:
    """Return the findings in the order to fix them."""
    rank = {rule: index for index, rule in enumerate(FIX_FIRST)}
    return sorted(findings, key=lambda f: (rank.get(f.rule, len(rank)), f.path, f.line))


def report(adoption: Adoption) -> str:
    """Return what adopt did and what is left, for the person who runs it."""
    lines = [f"Adopted {adoption.root} on the branch {adoption.branch}.", "", "Answers:"]
    for key, value in adoption.answers.items():
        guessed = adoption.guesses.get(key)
        why = f"  (from {guessed.source})" if guessed and guessed.value == value else ""
        lines.append(f"  {key}: {value}{why}")
    lines += ["", f"Added, as the template has them ({len(adoption.added)} files):"]
    tops: dict[str, int] = {}
    for path in adoption.added:
        top = path.split("/", 1)[0] + ("/" if "/" in path else "")
        tops[top] = tops.get(top, 0) + 1
    lines += [
        f"  {top} ({count} files)" if top.endswith("/") else f"  {top}"
        for top, count in sorted(tops.items())
    ]
    lines += [
        "",
        f"To merge by hand, in this order ({len(adoption.beside)}): the template's version is"
        f" beside yours as <name>{SUFFIX}; take what you need of it into yours, then delete it.",
    ]
    lines += [f"  {number}. {path}" for number, path in enumerate(adoption.beside, 1)]
    ordered = by_priority(adoption.findings)
    lines += ["", f"Doctor's findings, to fix first at the top ({len(ordered)}):"]
    lines += [
        f"  {relative(found.path, adoption.root)}:{found.line} {found.rule}"
        f" {RULES[found.rule].name}: {found.message}"
        for found in ordered
    ]
    lines += ["", 'Then: the README\'s "Adopting an existing service", step by step.']
    return "\n".join(lines)
