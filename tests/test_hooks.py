"""Tests for hooks: the checks, the Copier task entry point and the CLI."""

import ast
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hooks import checks, doctor, task
from hooks.checks import (
    check_jinja,
    check_path,
    check_secrets,
    check_syntax,
    check_tree,
    format_report,
)
from hooks.cli import app
from hooks.conflicts import find_conflicts, format_conflicts
from hooks.files import Problem, iter_files

REPO = Path(__file__).resolve().parent.parent
#: What a feature declares itself with, among it the service's copy of the placeholder secrets.
CONFIG = REPO / "template/src/{{package_name}}/features/__init__.py"
runner = CliRunner()


def make_tree(root: Path, files: Mapping[str, str | bytes]) -> Path:
    """Write files (relative POSIX path to content) under root and return root."""
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


def lines_of(problems: list[Problem]) -> list[int]:
    """Return the line numbers of the problems, in order."""
    return [problem.line for problem in problems]


CLEAN = {
    "pyproject.toml": '[project]\nname = "demo"\n',
    "src/demo/__init__.py": '"""Demo."""\n',
    ".env.example": "SECRET_KEY=\nDATABASE_URL=sqlite:///demo.db\n",
    ".github/workflows/ci.yml": "on: push\njobs: {}\nenv:\n  SHA: ${{ github.sha }}\n",
    "src/demo/templates/base.html": "{% block body %}{{ title }}{% endblock %}\n",
}


@pytest.mark.parametrize(
    ("problem", "text"),
    [
        pytest.param(Problem("a/b.py", 3, "bad"), "a/b.py:3: bad", id="with-line"),
        pytest.param(Problem("a/b.py", 0, "bad"), "a/b.py: bad", id="whole-file"),
    ],
)
def test_problem_str(problem: Problem, text: str) -> None:
    assert str(problem) == text


@pytest.mark.parametrize(
    ("rel", "count", "fragment"),
    [
        pytest.param("src/demo/app.py", 0, "", id="plain"),
        pytest.param("src/demo/app.py.jinja", 1, ".jinja", id="jinja-suffix-left"),
        pytest.param("src/{{ package }}/app.py", 1, "{{ package }}", id="var-dir"),
        pytest.param("{% if x %}a.py{% endif %}", 1, "{% if x %}", id="cond-name"),
    ],
)
def test_check_path(rel: str, count: int, fragment: str) -> None:
    problems = check_path(rel)
    assert len(problems) == count
    assert all(p.line == 0 and fragment in p.message for p in problems)


@pytest.mark.parametrize(
    ("rel", "text", "lines"),
    [
        pytest.param("app.py", "x = 1\n", [], id="no-tags"),
        pytest.param("app.py", 'a = 1\nname = "{{ project }}"\n', [2], id="variable"),
        pytest.param("README.md", "# T\n\n{% if x %}\n", [3], id="block"),
        pytest.param("app.py", "{# note #}\n", [1], id="comment"),
        pytest.param("ci.yml", "sha: ${{ github.sha }}\n", [], id="actions-expr"),
        pytest.param("run.sh", 'echo "${#ARGS[@]}"\n', [], id="shell-length"),
        pytest.param("ci.yml", "a: ${{ ok }} {{ bad }}\n", [1], id="actions-and-bad"),
        pytest.param("src/d/templates/x.html", "{% block b %}\n", [], id="flask-tpl"),
        pytest.param("templates.py", "{{ x }}\n", [1], id="file-named-templates"),
    ],
)
def test_check_jinja(rel: str, text: str, lines: list[int]) -> None:
    assert lines_of(check_jinja(rel, text)) == lines


@pytest.mark.parametrize(
    ("rel", "text", "lines", "prefix"),
    [
        pytest.param("a.py", "def f():\n    return 1\n", [], "", id="py-ok"),
        pytest.param("a.py", "x = 1\n\ndef f(:\n", [3], "Python", id="py-bad"),
        pytest.param("a.py", 'import re\nre.compile("\\d")\n', [], "", id="py-escape"),
        pytest.param("a.toml", '[a]\nb = "c"\n', [], "", id="toml-ok"),
        pytest.param("a.toml", '[a]\nb = "c\n', [2], "invalid TOML", id="toml-bad"),
        pytest.param("a.yml", "a: 1\n---\nb: 2\n", [], "", id="yaml-multidoc"),
        pytest.param("a.yaml", "a: 1\n---\nb: [\n", [4], "invalid YAML", id="yaml-bad"),
        pytest.param(".copier-answers.yml", "a: b: c\n", [1], "invalid YAML", id="ans"),
        pytest.param("a.json", '{"a": [1, 2]}', [], "", id="json-ok"),
        pytest.param("a.json", '{\n "a": 1,\n}\n', [3], "invalid JSON", id="json-bad"),
        pytest.param("a.txt", "{[(", [], "", id="other-suffix"),
    ],
)
def test_check_syntax(rel: str, text: str, lines: list[int], prefix: str) -> None:
    problems = check_syntax(rel, text)
    assert lines_of(problems) == lines
    assert all(p.message.startswith(prefix) for p in problems)


@pytest.mark.filterwarnings("error")
def test_check_syntax_ignores_warning_filters() -> None:
    # An invalid escape warns; under "error" filters compile would raise it.
    assert check_syntax("a.py", 'PATTERN = "\\d"\n') == []


@pytest.mark.parametrize(
    ("rel", "text", "lines"),
    [
        pytest.param(".env.example", "SECRET_KEY=\n", [], id="env-empty"),
        pytest.param(".env.example", "A=1\nSECRET_KEY=changeme\n", [2], id="env-lit"),
        pytest.param(".env.example", 'SECRET_KEY=""  # set\n', [], id="env-quoted"),
        pytest.param(".env", "DB_PASSWORD=hunter2 # x\n", [1], id="env-suffix"),
        pytest.param(".env", "PASSWORD_MIN_LENGTH=8\n", [], id="env-not-suffix"),
        pytest.param("run.sh", "export API_KEY=$API_KEY\n", [], id="shell-ref"),
        pytest.param("Dockerfile", "ENV SECRET_KEY=dev\n", [1], id="dockerfile"),
        pytest.param("a.py", 'SECRET_KEY = "abc"\n', [], id="python-is-doctors"),
        pytest.param("ci.yml", "password: ${{ secrets.DB }}\n", [], id="yaml-expr"),
        pytest.param("c.yml", "env:\n  POSTGRES_PASSWORD: pg\n", [2], id="yaml-lit"),
        pytest.param("c.yml", "SECRET_KEY: null\nTOKEN: ~\n", [], id="yaml-null"),
        pytest.param("c.yml", "token:\n  a: 1\n", [], id="yaml-nested"),
        pytest.param("c.yml", "env:\n  - SECRET_KEY=dev\n", [2], id="yaml-list-env"),
        pytest.param("c.json", '{"password": "hunter2"}\n', [1], id="json-literal"),
        pytest.param("c.json", '{"password": null, "token": ""}', [], id="json-empty"),
        pytest.param("c.toml", '[x]\napi_key = "abc"\n', [2], id="toml-literal"),
        pytest.param("c.toml", 'api_key = ""\n', [], id="toml-empty"),
        pytest.param("README.md", "SECRET_KEY=changeme\n", [], id="markdown"),
        pytest.param(
            "tests/t.yml",
            "a: {SECRET_KEY: changeme}  # pragma: allowlist secret\nTOKEN: test\n",
            [2],
            id="allowlist-pragma-per-line",
        ),
    ],
)
def test_check_secrets(rel: str, text: str, lines: list[int]) -> None:
    assert lines_of(check_secrets(rel, text)) == lines


@pytest.mark.parametrize(
    ("rel", "text", "lines"),
    [
        pytest.param("a.py", 'SECRET_KEY = "abc"\n', [1], id="py-literal"),
        pytest.param("a.py", "SECRET_KEY: str | None = None\n", [], id="py-annotated"),
        pytest.param("a.py", 'SECRET_KEY = os.environ["SECRET_KEY"]\n', [], id="py-environ"),
        pytest.param("a.py", 'KEY = os.environ.get("SECRET_KEY", "dev")\n', [1], id="py-default"),
        pytest.param("a.py", 'app.config["SECRET_KEY"] = "value"\n', [1], id="py-subscript"),
        pytest.param(
            "a.py",
            'app.config.from_mapping(\n  SECRET_KEY="dev",\n)\n',
            [2],
            id="py-kw",
        ),
        pytest.param("a.py", 'd = {"API_KEY": "abc"}\n', [1], id="py-dict"),
        pytest.param(
            "a.py",
            'if not password:\n    error = "Password is required."\n',
            [],
            id="py-not-assigned",
        ),
        pytest.param("a.py", 'token = f"{prefix}-x"\n', [], id="py-fstring"),
        # No secret is in the code, only the name of the variable it comes from.
        pytest.param("a.py", 'SECRET_KEY = "${X}"\n', [], id="py-dollar-names-a-variable"),
        pytest.param("tests/t.py", 'SECRET_KEY = "made-up-here"\n', [], id="tests-literal"),
        pytest.param("tests/t.py", 'SECRET_KEY = "Test"\n', [1], id="tests-placeholder"),
    ],
)
def test_a_python_secret_is_reported_once_by_doctor(
    tmp_path: Path, rel: str, text: str, lines: list[int]
) -> None:
    make_tree(tmp_path, {rel: text})
    found = check_tree(tmp_path)
    assert [problem.line for problem in found] == lines
    assert all(problem.message.startswith("FD501 ") for problem in found)


def test_one_secret_vocabulary_for_config_validation_and_doctor() -> None:
    """The service's config check, the validation and doctor refuse the same placeholders."""
    text = CONFIG.read_text()
    start = text.index("PLACEHOLDER_SECRETS: Final = frozenset(")
    assignment = ast.parse(text[start : text.index("\n)\n", start) + 2])
    words = {node.value for node in ast.walk(assignment) if isinstance(node, ast.Constant)}
    assert words == doctor.PLACEHOLDER_SECRETS
    # The validation uses doctor's own words, and every service vendors that very file.
    assert vars(checks)["doctor"] is doctor
    assert (REPO / "template/tools/doctor.py").resolve() == Path(doctor.__file__).resolve()


@pytest.mark.parametrize(
    ("name", "value", "secret"),
    [
        pytest.param("DB_PASSWORD", "hunter2-but-longer", True, id="word-ends-name"),
        pytest.param("PASSWORD_RESET_SUBJECT", "Reset", False, id="word-then-more"),
        pytest.param("TOKEN_PREFIX_USER", "usr_", False, id="prefix-name"),
        pytest.param("API_TOKEN", "pat-", False, id="prefix-value"),
        pytest.param("SECURITY_PASSWORD_HASH", "pbkdf2_sha512", False, id="hash-name"),
        pytest.param("JWT_SECRET", "HS256", False, id="algorithm-value"),
        pytest.param("MAIL_PASSWORD", "Reset your password", False, id="prose"),
        pytest.param("MAIL_PASSWORD", "email/reset.html", False, id="template-path"),
        pytest.param("SECRET_KEY", "secret key", True, id="lower-case-words"),
        pytest.param("CLIENT_SECRET", "OIDC_CLIENT_SECRET", False, id="variable-name"),
        pytest.param("DB_PASSWORD", "arn:aws:secretsmanager:eu:1:secret:db", False, id="store"),
        pytest.param("SECRET_KEY", "123456", True, id="digits-only"),
        pytest.param("SECRET_KEY", "abc", True, id="short"),
        pytest.param("SECRET_KEY", "zzzz", True, id="one-character"),
        pytest.param("SECRET_KEY", "changeme", True, id="placeholder"),
        pytest.param("SECRET_KEY", "off", False, id="switch"),
        pytest.param("SECRET_KEY", "****", False, id="mask"),
    ],
)
def test_the_validation_and_doctor_tell_secrets_alike(
    tmp_path: Path, name: str, value: str, secret: bool
) -> None:
    """Both follow doctor's is_secret_value: a .env line and a .py line, the same verdict."""
    assert doctor.is_secret_value(name, value) is secret
    assert bool(check_secrets(".env.example", f"{name}={value}\n")) is secret
    make_tree(tmp_path, {"settings.py": f"{name} = {value!r}\n"})
    assert bool(check_tree(tmp_path)) is secret


def test_check_secrets_message_says_what_to_do() -> None:
    [problem] = check_secrets(".env.example", "SECRET_KEY=changeme\n")
    assert problem.message == (
        "SECRET_KEY is assigned a literal ('changeme'): secrets come from the "
        "environment; leave the value empty in .env.example and set it in the "
        "deployment"
    )


def test_check_secrets_in_tests_suggests_run_time_secrets() -> None:
    [problem] = check_secrets("tests/settings.env", "PASSWORD=admin\n")
    assert problem.message.startswith("PASSWORD is a placeholder ('admin')")
    assert "secrets.token_urlsafe()" in problem.message


def test_check_secrets_does_not_echo_long_values() -> None:
    [problem] = check_secrets("c.env", "API_KEY=abcdefghSECRETTAIL\n")
    assert "'abcdefgh…'" in problem.message
    assert "SECRETTAIL" not in problem.message


def test_iter_files_skips_caches_and_environments(tmp_path: Path) -> None:
    make_tree(tmp_path, {"a.py": "", ".venv/b.py": "", "x/node_modules/c.js": ""})
    assert list(iter_files(tmp_path)) == [tmp_path / "a.py"]


def test_check_tree_finds_sorted_problems(tmp_path: Path) -> None:
    make_tree(
        tmp_path,
        {
            **CLEAN,
            "b.py": "x = 1\ndef f({{ arg }}):\n",
            "z.py": "{{ z }}\n",
            "src/c.py": "{{ c }}\n",
            "a.py.jinja": "ok = 1\n",
            ".env.example": "SECRET_KEY=changeme\n",
            "logo.png": b"\x89PNG\0{{ binary }}",
            ".venv/lib/bad.py": "def (:\n",
            "instance/app.cfg": "SECRET_KEY=real\n",
            # The owner's local settings: an update runs the checks with these present.
            ".env": "SECRET_KEY=a-real-secret-the-owner-set\n",
            "deploy/.env.production": "SECRET_KEY=changeme\n",
        },
    )
    found = [(p.path, p.line) for p in check_tree(tmp_path)]
    assert found == [
        (".env.example", 1),
        ("a.py.jinja", 0),
        ("b.py", 2),  # Jinja and the syntax error it causes.
        ("b.py", 2),
        ("src/c.py", 1),
        ("z.py", 1),
    ]


def test_check_tree_accepts_clean_project(tmp_path: Path) -> None:
    assert check_tree(make_tree(tmp_path, CLEAN)) == []


def test_format_report(tmp_path: Path) -> None:
    problems = [Problem("a.py", 2, "bad"), Problem("b.toml", 0, "worse")]
    lines = format_report(problems, tmp_path).splitlines()
    assert lines[0] == f"Validation of {tmp_path} found 2 problem(s):"
    assert lines[1:3] == ["  a.py:2: bad", "  b.toml: worse"]
    assert f"python -m hooks validate {tmp_path}" in lines[3]
    assert "-d validate_output=false" in lines[3]
    assert len(lines) == 4


def test_format_report_is_empty_without_problems(tmp_path: Path) -> None:
    assert format_report([], tmp_path) == ""


def test_task_passes_clean_tree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "no-uv"))  # locking: test_the_task_locks_…
    make_tree(tmp_path, CLEAN)
    assert task.main(["copy", str(tmp_path)]) == 0
    assert f"Validated {len(CLEAN)} files in {tmp_path}" in capsys.readouterr().err


def test_task_reports_problems(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make_tree(tmp_path, {"a.py": "x = 1\ndef (:\n"})
    assert task.main(["update", str(tmp_path)]) == 1
    assert "a.py:2: Python syntax" in capsys.readouterr().err


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["recopy", "."], id="unknown-operation"),
        pytest.param(["copy"], id="missing-path"),
        pytest.param(["copy", "missing-dir"], id="not-a-directory"),
    ],
)
def test_task_rejects_bad_arguments(
    args: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert task.main(args) == 2


def test_task_runs_by_path_from_another_directory(tmp_path: Path) -> None:
    project = make_tree(tmp_path / "project", {"a.py": "x = '{{ name }}'\n"})
    env: dict[str, str] = {}  # Nothing in the environment may point at the repo.
    result = subprocess.run(
        [sys.executable, str(REPO / "hooks" / "task.py"), "copy", str(project)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    assert "a.py:1: unrendered Jinja" in result.stderr


def fake_uv(folder: Path, script: str) -> Path:
    """Put a `uv` that runs the shell `script` in `folder`, and return the folder."""
    folder.mkdir()
    uv = folder / "uv"
    uv.write_text(f"#!/bin/sh\n{script}\n")
    uv.chmod(0o755)
    return folder


@pytest.mark.parametrize(
    ("script", "locked", "message"),
    [
        pytest.param('echo "$@" > uv.lock', True, "Locked the dependencies", id="locks"),
        pytest.param(
            "echo 'error: Failed to fetch: https://pypi.org/simple/flask/' >&2; exit 2",
            False,
            "`uv lock` failed (error: Failed to fetch",
            id="offline",
        ),
        pytest.param(None, False, "uv is not on PATH", id="no-uv"),
    ],
)
def test_the_task_locks_or_says_what_to_run(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    script: str | None,
    locked: bool,
    message: str,
) -> None:
    project = make_tree(tmp_path / "project", {**CLEAN, "pyproject.toml": "[project]\n"})
    path = fake_uv(tmp_path / "bin", script) if script else tmp_path / "empty"
    monkeypatch.setenv("PATH", str(path))
    assert task.main(["copy", str(project)]) == 0  # never fails the copy
    err = capsys.readouterr().err
    assert message in err
    assert (project / "uv.lock").is_file() == locked
    if locked:
        assert (project / "uv.lock").read_text() == "lock --no-progress\n"
    else:
        assert f"Run `uv lock` in {project}" in err


def test_the_task_locks_only_a_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(fake_uv(tmp_path / "bin", "echo > uv.lock")))
    no_project = {path: text for path, text in CLEAN.items() if path != "pyproject.toml"}
    project = make_tree(tmp_path / "project", no_project)
    assert task.main(["update", str(project)]) == 0
    assert not (project / "uv.lock").exists()


#: The hooks modules Copier's own interpreter runs (the CLI is the template's, not Copier's).
COPIER_SIDE = ["checks", "conflicts", "files", "task", "doctor", "dependencies", "update"]


@pytest.mark.parametrize("module", [f"{name}.py" for name in COPIER_SIDE])
def test_copier_side_imports_only_what_copier_has(module: str) -> None:
    tree = ast.parse((REPO / "hooks" / module).read_text(encoding="utf-8"))
    imported = {
        alias.name for n in ast.walk(tree) if isinstance(n, ast.Import) for alias in n.names
    }
    imported |= {
        n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.level == 0
    }
    # tomli is the optional TOML parser on Python 3.10, imported under try.
    allowed = sys.stdlib_module_names | {"yaml", "jinja2", "tomli"}
    # The hooks package itself: task.py puts the template's folder on the path.
    foreign = {name for name in imported if name.split(".")[0] not in allowed | {"hooks"}}
    assert foreign == set()


def test_cli_help_lists_validate() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "validate" in result.output


def test_cli_validate_help_explains_run_tests() -> None:
    result = runner.invoke(app, ["validate", "--help"])
    assert result.exit_code == 0
    assert "--run-tests" in result.output
    assert "ruff and mypy" in result.output


def test_cli_requires_the_command_name(tmp_path: Path) -> None:
    result = runner.invoke(app, [str(tmp_path)])
    assert result.exit_code == 2


def test_cli_validate_clean_tree(tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate", str(make_tree(tmp_path, CLEAN))])
    assert result.exit_code == 0
    assert "no problems" in result.output


def test_cli_validate_bad_tree(tmp_path: Path) -> None:
    make_tree(tmp_path, {"src/a.py": "ok = 1\nSECRET_KEY = 'changeme'\n"})
    result = runner.invoke(app, ["validate", str(tmp_path)])
    assert result.exit_code == 1
    # Once, in doctor's wording: the validation leaves Python's secrets to doctor.
    assert "found 1 problem(s)" in result.output
    assert "src/a.py:2: FD501 `SECRET_KEY` is set to a literal" in result.output


def test_cli_validate_missing_path(tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate", str(tmp_path / "missing")])
    assert result.exit_code == 2


def test_cli_run_tests_needs_uv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("shutil.which", lambda _: None)
    result = runner.invoke(app, ["validate", str(tmp_path), "--run-tests"])
    assert result.exit_code == 2
    assert "pip install uv" in result.output


PROJECT_COMMANDS = [
    "uv sync",
    "uv run pytest -q",
    "uv run ruff check",
    "uv run ruff format --check",
    "uv run mypy",
]


def record_runs(monkeypatch: pytest.MonkeyPatch, failing: str = "") -> list[str]:
    """Replace subprocess.run; return the list it records "command @ cwd" into."""
    calls: list[str] = []

    def run(args: list[str], **kwargs: object) -> subprocess.CompletedProcess[bytes]:
        command = " ".join(["uv", *args[1:]])
        calls.append(f"{command} @ {kwargs['cwd']}")
        return subprocess.CompletedProcess(args, 1 if command == failing else 0)

    monkeypatch.setattr("shutil.which", lambda _: "/opt/bin/uv")
    monkeypatch.setattr(subprocess, "run", run)
    return calls


def test_cli_run_tests_runs_project_checks_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = record_runs(monkeypatch)
    result = runner.invoke(app, ["validate", str(tmp_path), "--run-tests"])
    assert result.exit_code == 0
    assert calls == [f"{command} @ {tmp_path}" for command in PROJECT_COMMANDS]


def test_cli_run_tests_stops_at_first_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = record_runs(monkeypatch, failing="uv run pytest -q")
    result = runner.invoke(app, ["validate", str(tmp_path), "--run-tests"])
    assert result.exit_code == 1
    assert "Failed: `uv run pytest -q`" in result.output
    assert calls == [f"{command} @ {tmp_path}" for command in PROJECT_COMMANDS[:2]]


def test_cli_run_tests_skipped_after_static_problems(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = record_runs(monkeypatch)
    make_tree(tmp_path, {"a.py": "def (:\n"})
    result = runner.invoke(app, ["validate", str(tmp_path), "--run-tests"])
    assert result.exit_code == 1
    assert calls == []


def test_find_conflicts_reports_markers_and_rejected_hunks(tmp_path: Path) -> None:
    make_tree(
        tmp_path,
        {
            "a.py": "x = 1\n<<<<<<< before updating\nx = 2\n=======\nx = 3\n"
            ">>>>>>> after updating\n",
            "b.md": "Title\n=======\n",  # a Markdown heading, not a conflict
            "gunicorn.conf.py.rej": "@@ -1 +1 @@\n",
            ".env": "<<<<<<< the owner's file is never read\n",
        },
    )
    found = [(p.path, p.line) for p in find_conflicts(tmp_path)]
    assert found == [("a.py", 2), ("a.py", 6), ("gunicorn.conf.py.rej", 0)]
    report = format_conflicts(find_conflicts(tmp_path), tmp_path)
    assert "a.py:2: conflict marker" in report
    assert "before updating" in report


def test_after_update_fails_only_when_conflicts_are_left(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_tree(tmp_path, {"a.py": "x = 1\n"})
    assert task.main(["after-update", str(tmp_path)]) == 0
    (tmp_path / "a.py").write_text(">>>>>>> after updating\n")
    assert task.main(["after-update", str(tmp_path)]) == 1
    assert "a.py:1: conflict marker" in capsys.readouterr().err


def test_a_marker_that_names_a_package_is_reported_with_it(tmp_path: Path) -> None:
    make_tree(tmp_path, {"pyproject.toml": "<<<<<<< before updating: flask\n"})
    (problem,) = find_conflicts(tmp_path)
    assert str(problem) == (
        "pyproject.toml:1: conflict marker: flask, which you and the template both changed"
    )


def test_an_update_writes_no_lock(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Copier's temporary copies would carry it into the text merge."""
    monkeypatch.setenv("PATH", str(fake_uv(tmp_path / "bin", "echo > uv.lock")))
    project = make_tree(tmp_path / "project", CLEAN)
    assert task.main(["update", str(project)]) == 0
    assert not (project / "uv.lock").exists()
    assert task.main(["copy", str(project)]) == 0
    assert (project / "uv.lock").exists()


def test_after_update_says_what_is_left_when_git_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "no-git"))
    make_tree(tmp_path, CLEAN)
    assert task.main(["after-update", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "The post-update step stopped" in err
    assert "then run `uv lock`" in err
