"""copier.yml: every question is documented, and every bad answer is refused helpfully."""

from __future__ import annotations

import keyword
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import AT_HEAD, TEMPLATE, copier_cli


def load_questions() -> dict[str, Any]:
    """Parse copier.yml and its include into one mapping, as Copier merges them."""

    class Loader(yaml.SafeLoader):
        pass

    def include(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
        assert isinstance(node, yaml.ScalarNode)
        return yaml.safe_load((TEMPLATE / str(loader.construct_scalar(node))).read_text())

    Loader.add_constructor("!include", include)
    merged: dict[str, Any] = {}
    for document in yaml.load_all((TEMPLATE / "copier.yml").read_text(), Loader):
        merged.update(document)
    return merged


CONFIG = load_questions()
QUESTIONS = {key: value for key, value in CONFIG.items() if not key.startswith("_")}
PUBLIC = {key: value for key, value in QUESTIONS.items() if value.get("when") is not False}


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
        "docker",
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
        for name in ("yaml", "mako", "pydantic_core", "annotated_types", "xdist")
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


@pytest.mark.parametrize(
    ("name", "slug", "package"),
    [
        pytest.param("Example Service", "example-service", "example_service", id="default"),
        pytest.param(
            "  Billing & Payments API ",
            "billing-payments-api",
            "billing_payments_api",
            id="punctuation",
        ),
        pytest.param("2fast 2furious", "2fast-2furious", "service_2fast_2furious", id="digit"),
        pytest.param("JSON", "json", "json_service", id="stdlib"),
        pytest.param("Class", "class", "class_service", id="keyword"),
        pytest.param("Flask", "flask", "flask_service", id="dependency"),
        pytest.param("Сервис", "service", "service", id="no-ascii"),
        pytest.param("!!!", "service", "service", id="punctuation-only"),
    ],
)
def test_slug_and_package_derive_from_the_name(
    copie: Any, name: str, slug: str, package: str
) -> None:
    result = copie.copy(extra_answers={"project_name": name})
    assert result.exception is None, result.exception
    assert (result.answers["project_slug"], result.answers["package_name"]) == (slug, package)


def test_the_command_line_refuses_a_bad_answer_and_writes_nothing(tmp_path: Path) -> None:
    destination = tmp_path / "service"
    result = copier_cli(
        "copy", "--trust", "--defaults", "-d", "package_name=json", *AT_HEAD, str(destination)
    )
    assert result.returncode != 0
    assert '"json_service": that name is a standard-library module' in result.stderr
    assert not destination.exists() or not any(destination.iterdir())
