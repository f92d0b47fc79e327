"""The validation of a render: Jinja leftovers, syntax, secrets outside Python, doctor's pitfalls.

Copier runs this module inside its own interpreter, so it may import only the
standard library and Copier's own dependencies (PyYAML and Jinja2).
"""

import json
import re
import sys
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath

import yaml

from hooks import doctor
from hooks.files import Problem, iter_files, read_text, report

# Copier may run this on Python 3.10, below this repository's own minimum.
if sys.version_info >= (3, 11):  # noqa: UP036
    import tomllib
else:
    try:
        import tomli as tomllib
    except ModuleNotFoundError:
        tomllib = None


def check_path(rel: str) -> list[Problem]:
    """Report file names that Copier should have rendered."""
    parts = PurePosixPath(rel).parts
    problems = []
    if parts[-1].endswith(".jinja"):
        message = "file name still ends in .jinja: Copier did not render this file"
        problems.append(Problem(rel, 0, message))
    for part in parts:
        if "{{" in part or "{%" in part:
            message = f"unrendered Jinja in the path component {part!r}"
            problems.append(Problem(rel, 0, message))
    return problems


#: Copier writes the answers there itself (`_answers_file` in copier.yml).
ANSWERS_FILE = ".copier-answers.yml"
# A preceding "$" marks GitHub Actions ${{ }} and shell ${#var}, not Copier.
_JINJA_TAG = re.compile(r"(?<!\$)\{[{%#]")


def check_jinja(rel: str, text: str) -> list[Problem]:
    """Report Copier Jinja tags left in the text of a generated file."""
    if "templates" in PurePosixPath(rel).parts[:-1]:
        return []  # Flask's own Jinja templates are meant to keep their tags.
    if rel == ANSWERS_FILE:
        return []  # Copier's own record of the answers, verbatim: an answer may hold "{{".
    problems = []
    for number, line in enumerate(text.splitlines(), start=1):
        if match := _JINJA_TAG.search(line):
            message = (
                f"unrendered Jinja {match.group()!r}: "
                "the template file probably lacks its .jinja suffix"
            )
            problems.append(Problem(rel, number, message))
    return problems


def _python(rel: str, text: str) -> list[Problem]:
    # Warnings (invalid escapes) are not syntax errors, whatever the filters say.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            compile(text, rel, "exec", dont_inherit=True)
        except SyntaxError as error:
            return [Problem(rel, error.lineno or 0, f"Python syntax: {error.msg}")]
        except ValueError as error:  # Null bytes past the binary sniff.
            return [Problem(rel, 0, f"Python syntax: {error}")]
    return []


_TOML_POSITION = re.compile(r"\s*\(at (?:line (\d+), column \d+|end of document)\)$")


def _toml(rel: str, text: str) -> list[Problem]:
    if tomllib is None:
        return []
    try:
        tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        position = _TOML_POSITION.search(str(error))
        line = int(position.group(1)) if position and position.group(1) else 0
        message = _TOML_POSITION.sub("", str(error))
        return [Problem(rel, line, f"invalid TOML: {message}")]
    return []


def _yaml(rel: str, text: str) -> list[Problem]:
    try:
        list(yaml.safe_load_all(text))
    except yaml.MarkedYAMLError as error:
        line = error.problem_mark.line + 1 if error.problem_mark else 0
        return [Problem(rel, line, f"invalid YAML: {error.problem or error}")]
    except yaml.YAMLError as error:
        return [Problem(rel, 0, f"invalid YAML: {error}")]
    return []


def _json(rel: str, text: str) -> list[Problem]:
    try:
        json.loads(text)
    except json.JSONDecodeError as error:
        return [Problem(rel, error.lineno, f"invalid JSON: {error.msg}")]
    return []


_PARSERS: dict[str, Callable[[str, str], list[Problem]]] = {
    ".py": _python,
    ".toml": _toml,
    ".yml": _yaml,
    ".yaml": _yaml,
    ".json": _json,
}


def check_syntax(rel: str, text: str) -> list[Problem]:
    """Report Python, TOML, YAML and JSON files that do not parse."""
    parser = _PARSERS.get(PurePosixPath(rel).suffix)
    return parser(rel, text) if parser else []


_NAME = r"(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
_LITERAL = r"(?P<q>[\"'])(?P<value>.*?)(?P=q)"
_RAW = r"(?P<raw>.*)$"  # The rest of an unquoted dotenv or YAML line.
_DOTENV = re.compile(rf"^[ \t]*(?:(?:-|export|ENV|ARG)[ \t]+)?{_NAME}={_RAW}")
_JSON = re.compile(rf"\"{_NAME}\"[ \t]*:[ \t]*{_LITERAL}")
_TOML = re.compile(rf"(?<![\w-])(?P<kq>[\"']?){_NAME}(?P=kq)[ \t]*=[ \t]*{_LITERAL}")
_YAML = re.compile(rf"^[ \t]*(?:-[ \t]+)?(?P<kq>[\"']?){_NAME}(?P=kq)[ \t]*:(?:[ \t]+{_RAW})?$")
_PATTERNS_BY_SUFFIX: dict[str, tuple[re.Pattern[str], ...]] = {
    ".toml": (_TOML,),
    ".json": (_JSON,),
    ".yml": (_YAML, _DOTENV),
    ".yaml": (_YAML, _DOTENV),
    ".md": (),  # Documentation may show examples.
}
_REFERENCE_MARKERS = ("os.environ", "getenv", "environ[", "{{", "{%")
_MAX_SHOWN = 8
_ALLOW = "pragma: allowlist secret"


def _raw_value(raw: str) -> str:
    raw = raw.strip()
    if raw[:1] in ("'", '"'):
        end = raw.find(raw[0], 1)
        return raw[1:end] if end > 0 else raw[1:]
    return re.split(r"(?:^|\s)#", raw, maxsplit=1)[0].strip()


def _text_pairs(text: str, suffix: str) -> Iterator[tuple[int, str, str]]:
    patterns = _PATTERNS_BY_SUFFIX.get(suffix, (_DOTENV,))
    for number, line in enumerate(text.splitlines(), start=1):
        for match in (m for pattern in patterns for m in pattern.finditer(line)):
            if "raw" in match.re.groupindex:
                yield number, match["name"], _raw_value(match["raw"] or "")
            else:
                yield number, match["name"], match["value"]


def _secret_problem(rel: str, number: int, name: str, value: str, in_tests: bool) -> Problem:
    shown = value if len(value) <= _MAX_SHOWN else value[:_MAX_SHOWN] + "…"
    if in_tests:
        advice = "build test secrets at run time, e.g. with secrets.token_urlsafe()"
        return Problem(rel, number, f"{name} is a placeholder ({shown!r}): {advice}")
    advice = (
        "secrets come from the environment; leave the value empty in "
        ".env.example and set it in the deployment"
    )
    return Problem(rel, number, f"{name} is assigned a literal ({shown!r}): {advice}")


def _is_reference(value: str) -> bool:
    if value.casefold() in {"", "none", "null", "~"} or value.startswith("$"):
        return True
    return any(marker in value for marker in _REFERENCE_MARKERS)


def check_secrets(rel: str, text: str) -> list[Problem]:
    """Report secret-looking names assigned a literal or placeholder value, outside Python.

    doctor's FD501 reports Python (check_pitfalls), with the same vocabulary: a secret in a
    .py file is reported once, in one wording.
    """
    path = PurePosixPath(rel)
    if path.suffix == ".py":
        return []
    pairs = _text_pairs(text, path.suffix)
    # Tests may hold made-up literals; only the well-known placeholders count.
    in_tests = doctor.is_test_path(path)
    problems: dict[int, Problem] = {}  # One finding per line is enough.
    # detect-secrets' pragma lets a test feed a placeholder to code that refuses it.
    allowed = {n for n, line in enumerate(text.splitlines(), start=1) if _ALLOW in line}
    for number, name, value in pairs:
        # doctor's rules: DB_PASSWORD, not PASSWORD_RESET_SUBJECT; not false, HS256, usr_.
        if number in problems or number in allowed or not doctor.is_secret_value(name, value):
            continue
        placeholder = value.strip().casefold() in doctor.PLACEHOLDER_SECRETS
        if _is_reference(value) or (in_tests and not placeholder):
            continue
        problems[number] = _secret_problem(rel, number, name, value, in_tests)
    return sorted(problems.values(), key=lambda problem: problem.line)


CONTENT_CHECKS: tuple[Callable[[str, str], list[Problem]], ...] = (
    check_jinja,
    check_syntax,
    check_secrets,
)


def check_tree(root: Path, only: set[str] | None = None) -> list[Problem]:
    """Run every check over every file under root (or those of `only`), by path and line.

    `only` names the files a render wrote, relative to root: an update's render in the
    service's folder leaves the owner's own files beside it, which are the owner's to check.
    """
    problems = []
    for path in iter_files(root):
        rel = path.relative_to(root).as_posix()
        if only is not None and rel not in only:
            continue
        problems += check_path(rel)
        try:
            text = read_text(path)
        except OSError as error:
            problems.append(Problem(rel, 0, f"cannot read: {error.strerror}"))
            continue
        if text is not None:
            for check in CONTENT_CHECKS:
                problems += check(rel, text)
    problems += [
        problem for problem in check_pitfalls(root) if only is None or problem.path in only
    ]
    return sorted(problems, key=lambda problem: (problem.path, problem.line))


def check_pitfalls(root: Path) -> list[Problem]:
    """Report what doctor finds in the project's Python code (check_syntax: what cannot parse)."""
    return [
        Problem(
            Path(finding.path).relative_to(root).as_posix(),
            finding.line,
            f"{finding.rule} {finding.message} (doctor: {doctor.RULES[finding.rule].fix})",
        )
        for finding in doctor.check_paths([root])
    ]


def format_report(problems: list[Problem], root: Path) -> str:
    """Describe the problems for a person, or return "" when there are none."""
    return report(
        f"Validation of {root} found {len(problems)} problem(s):",
        problems,
        "Fix the template and generate again (Copier's --no-cleanup keeps a failed "
        f"copy to look at), or fix the files by hand and run `python -m hooks "
        f"validate {root}`; to skip these checks, at your own risk, pass "
        "`-d validate_output=false`.",
    )
