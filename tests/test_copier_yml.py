"""copier.yml: every question is documented, and every bad answer is refused helpfully."""

from __future__ import annotations

import keyword
import re
import string
import sys
import unicodedata
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.answers import CONFIG, HOST_PYTHON, NAME_LENGTH, ODD_NAMES, PUBLIC, QUESTIONS
from tests.support.commands import copier_cli
from tests.support.projects import AT_HEAD


def test_public_answer_keys_are_stable() -> None:
    """People script `copier copy -d key=value`: renaming a key breaks them."""
    assert list(PUBLIC) == [
        "project_name",
        "project_slug",
        "package_name",
        "description",
        "author_name",
        "author_email",
        "python_version",
        "worker_class",
        "database",
        "celery",
        "celery_broker",
        "metrics",
        "sentry",
        "opentelemetry",
        "auth",
        "docker",
        "ci",
        "kubernetes",
    ]


@pytest.mark.parametrize("name", sorted(QUESTIONS))
def test_every_question_has_help_type_and_default(name: str) -> None:
    question = QUESTIONS[name]
    assert question.get("help"), f"{name} has no help"
    assert question.get("type"), f"{name} has no type"
    assert "default" in question, f"{name} has no default"


def test_configuration() -> None:
    assert CONFIG["_subdirectory"] == "template"
    assert CONFIG["_answers_file"] == ".copier-answers.yml"
    assert CONFIG["_envops"]["undefined"] == "jinja2.StrictUndefined"
    assert {"__pycache__", "*.py[co]", ".DS_Store"} <= set(CONFIG["_exclude"])
    assert ".env" in CONFIG["_skip_if_exists"]


def test_reserved_names_cover_this_python() -> None:
    stdlib = {name for name in sys.stdlib_module_names if not name.startswith("_")}
    assert stdlib <= set(QUESTIONS["stdlib_module_names"]["default"])
    lowercase_keywords = {word for word in keyword.kwlist if word.islower()}
    assert lowercase_keywords == set(QUESTIONS["python_keywords"]["default"])
    assert {"flask", "celery", "gunicorn", "test", "tests"} <= set(
        QUESTIONS["dependency_module_names"]["default"]
    )


BAD_ANSWERS = [
    pytest.param({"project_name": "  "}, 'Type a name, e.g. "Billing Service"', id="name-empty"),
    pytest.param({"project_name": "Two\nlines"}, "Type it on one line", id="name-newline"),
    pytest.param({"description": "a\tb"}, "Type it on one line", id="description-tab"),
    pytest.param({"author_name": "x\x1b[31m"}, "Type it on one line", id="author-escape"),
    pytest.param({"project_slug": "Billing"}, 'Use e.g. "billing-service"', id="slug-upper"),
    pytest.param({"project_slug": "a--b"}, "single hyphens", id="slug-double-hyphen"),
    pytest.param(
        {"project_slug": "flask"},
        '"flask-service": a dependency has that name',
        id="slug-dependency",
    ),
    pytest.param({"project_slug": "sentry-sdk"}, "a dependency has that name", id="slug-sdk"),
    pytest.param(
        {"project_slug": "a" * 33}, 'Use at most 32 characters, e.g. "billing-', id="slug-too-long"
    ),
    pytest.param(
        {"package_name": "a" * 33}, 'Use at most 32 characters, e.g. "billing_', id="pkg-too-long"
    ),
    pytest.param({"package_name": "9lives"}, 'Use e.g. "billing_service"', id="pkg-digit"),
    pytest.param({"package_name": "my-app"}, 'Use e.g. "billing_service"', id="pkg-hyphen"),
    pytest.param(
        {"package_name": "class"},
        '"class_service": that name is a Python keyword',
        id="pkg-keyword",
    ),
    pytest.param(
        {"package_name": "json"},
        '"json_service": that name is a standard-library module',
        id="pkg-stdlib",
    ),
    pytest.param({"package_name": "logging"}, "standard-library module", id="pkg-logging"),
    pytest.param(
        {"package_name": "flask"}, '"flask_service": that name is a dependency', id="pkg-flask"
    ),
    pytest.param({"package_name": "celery"}, "dependency or tool", id="pkg-celery"),
    pytest.param({"package_name": "tests"}, "dependency or tool", id="pkg-tests"),
    *(
        pytest.param({"package_name": name}, "dependency or tool", id=f"pkg-{name}")
        for name in ("yaml", "mako", "pydantic_core", "annotated_types", "xdist", "tools")
    ),
    pytest.param({"author_email": "nobody"}, 'like "team@example.com"', id="email"),
    pytest.param({"author_email": "a@b"}, "Type an address", id="email-no-tld"),
    pytest.param({"author_email": "üser@exämple.com"}, "(ASCII only)", id="email-not-ascii"),
    pytest.param({"python_version": "3.10"}, "3.10", id="python-3.10"),
    pytest.param({"worker_class": "eventlet"}, "eventlet", id="worker-eventlet"),
    pytest.param({"database": "mysql"}, "mysql", id="database-mysql"),
    pytest.param({"celery": True, "celery_broker": "kafka"}, "kafka", id="broker-kafka"),
    pytest.param(
        {"celery_broker": "rabbitmq", "celery": True, "database": "none"},
        'Use "redis", or a database: RabbitMQ keeps no job results',
        id="rabbitmq-without-database",
    ),
    pytest.param({"ci": "jenkins"}, "jenkins", id="ci-jenkins"),
    pytest.param(
        {"kubernetes": True},
        'Use database "postgresql" or "none": pods cannot share one SQLite file',
        id="kubernetes-sqlite",
    ),
    pytest.param(
        {"kubernetes": True, "database": "none", "project_slug": "9lives"},
        "Use a project_slug that starts with a letter: Kubernetes needs one",
        id="kubernetes-digit-first-slug",
    ),
]
#: The width a prompt's bottom bar shows of a validator message on an 80-column terminal.
MESSAGE_WIDTH = 72


@pytest.mark.parametrize(("answers", "message"), BAD_ANSWERS)
def test_a_bad_answer_is_refused_with_what_to_type(
    copie: Any, answers: dict[str, str], message: str
) -> None:
    result = copie.copy(extra_answers=answers)
    assert result.exit_code != 0
    assert message in str(result.exception)
    # What to type comes first, and the whole message fits the prompt's bottom bar.
    if "validator" in str(QUESTIONS.get(next(iter(answers)), {})):
        first_line = str(result.exception).strip().splitlines()[-1].partition("': ")[2]
        assert first_line.startswith(("Type", "Use")), first_line
        assert len(first_line) <= MESSAGE_WIDTH, first_line
    # Nothing half-written is left behind.
    assert not any(Path(copie.test_dir).rglob("*.py"))


@pytest.mark.parametrize(
    "answers",
    [
        pytest.param({"project_name": "Billing Service!"}, id="name-punctuation"),
        pytest.param({"project_slug": "billing-v2"}, id="slug-digits"),
        pytest.param({"package_name": "json_api"}, id="pkg-not-quite-stdlib"),
        pytest.param({"package_name": "_private"}, id="pkg-underscore"),
        pytest.param({"author_email": "first.last+svc@corp.example.org"}, id="email-plus"),
        pytest.param({"project_slug": "9lives"}, id="slug-digit-first"),
    ],
)
def test_a_good_answer_is_accepted(copie: Any, answers: dict[str, str]) -> None:
    result = copie.copy(extra_answers=answers)
    assert result.exception is None, result.exception
    assert result.answers.items() >= answers.items()


#: A slug as Kubernetes and PEP 508 both take it: a letter first, then single hyphens.
SLUG = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*")


#: The odd names whose copies run the tasks (validation, `uv lock`) too: those whose derived
#: names meet what the tasks check (a name a dependency, the standard library, a keyword or a
#: folder already holds; the longest). The rest differ only in the letters they came from.
TASKED = {
    "plain",
    "digit-first",
    "yaml-boolean",
    "dunder",
    "stdlib",
    "keyword",
    "dependency",
    "project-folder",
    "dependency-distribution",
    "long",
}


@pytest.mark.parametrize(
    ("name", "slug", "package", "tasked"),
    [
        pytest.param(name, slug, package, key in TASKED, id=key)
        for key, (name, slug, package) in ODD_NAMES.items()
    ],
)
def test_any_name_derives_a_usable_slug_and_package(
    tmp_path: Path, name: str, slug: str, package: str, tasked: bool
) -> None:
    """`copier copy --defaults -d project_name=<name>` succeeds, tasks and all, for any name."""
    destination = tmp_path / "service"
    tasks = [] if tasked else ["--skip-tasks"]
    result = copier_cli(
        "copy",
        "--trust",
        "--defaults",
        *tasks,
        "-d",
        f"project_name={name}",
        # A Python this machine has: the copy task locks with it.
        "-d",
        f"python_version={HOST_PYTHON}",
        *AT_HEAD,
        str(destination),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    answers = yaml.safe_load((destination / ".copier-answers.yml").read_text())
    assert (answers["project_slug"], answers["package_name"]) == (slug, package)
    assert SLUG.fullmatch(slug), slug
    assert len(slug) <= NAME_LENGTH, slug
    assert len(package) <= NAME_LENGTH, package
    assert package.isidentifier(), package
    assert not keyword.iskeyword(package), package
    assert (destination / "src" / package / "__init__.py").is_file()
    assert (destination / "uv.lock").is_file() == tasked, "the copy task ran, or did not"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        pytest.param("", 'Type a name, e.g. "Billing Service"', id="empty"),
        pytest.param(" \u3000 ", 'Type a name, e.g. "Billing Service"', id="blank"),
        pytest.param("Two\nlines", "Type it on one line", id="newline"),
        pytest.param("Bell\x07", "Type it on one line", id="control"),
    ],
)
def test_a_name_nothing_can_come_from_is_refused(tmp_path: Path, name: str, message: str) -> None:
    destination = tmp_path / "service"
    result = copier_cli(
        "copy", "--trust", "--defaults", "-d", f"project_name={name}", *AT_HEAD, str(destination)
    )
    assert result.returncode != 0
    # Copier shows its own traceback, then the validator's message, last.
    assert message in result.stderr.strip().splitlines()[-1]
    assert not destination.exists() or not any(destination.iterdir())


def test_ascii_spellings_follow_unicode() -> None:
    """includes/ascii_spellings.yml holds exactly what Unicode's decompositions give."""
    assert QUESTIONS["ascii_spellings"]["default"] == ascii_spellings()


#: Latin letters that Unicode does not decompose, and how ASCII writes them.
UNDECOMPOSED = {
    "ß": "ss", "æ": "ae", "ǣ": "ae", "ǽ": "ae", "œ": "oe", "ø": "o", "ǿ": "o", "đ": "d",
    "ð": "d", "þ": "th", "ł": "l", "ħ": "h", "ŧ": "t", "ŋ": "ng", "ĸ": "k",
    "\N{LATIN SMALL LETTER DOTLESS I}": "i",
}  # fmt: skip
#: Unicode's Latin blocks: Latin-1 Supplement to Latin Extended-B, Latin Extended Additional.
LATIN_BLOCKS = [*range(0xC0, 0x250), *range(0x1E00, 0x1F00)]


def ascii_spellings() -> dict[str, str]:
    """Return each lowercase Latin letter's ASCII spelling, where it has one."""
    spellings = {}
    for letter in map(chr, LATIN_BLOCKS):
        if not letter.isalpha() or letter != letter.lower():
            continue
        decomposed = unicodedata.normalize("NFKD", letter)
        spelled = UNDECOMPOSED.get(letter) or "".join(
            character for character in decomposed if character in string.ascii_lowercase
        )
        if spelled:
            spellings[letter] = spelled
    return spellings


def test_the_command_line_refuses_a_bad_answer_and_writes_nothing(tmp_path: Path) -> None:
    destination = tmp_path / "service"
    result = copier_cli(
        "copy", "--trust", "--defaults", "-d", "package_name=json", *AT_HEAD, str(destination)
    )
    assert result.returncode != 0
    assert '"json_service": that name is a standard-library module' in result.stderr
    assert not destination.exists() or not any(destination.iterdir())
