"""What the suite answers copier.yml with: every pair of answers, three named sets, odd names.

Every choice and switch in copier.yml is a factor. A question asked only while a switch is on
(`celery_broker`, `when: "{{ celery }}"`) folds into that switch: `celery` takes the values
off, `redis` and `rabbitmq`, so each broker meets every other answer and no set names a
broker with Celery off. What copier.yml's validators refuse is a constraint. covertable builds
a covering array around the named sets, which it keeps as they are: every pair of values of
two factors that an accepted answer set can hold is in at least one set. Its order is a hash
seeded by `SEED`, so the rows are the same on every machine and every run;
docs/developing.md prints them, and a test fails when they change.

`python -m tests.answers` prints the matrix as docs/developing.md shows it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from itertools import cycle
from pathlib import Path
from typing import Any

from covertable import make

from hooks.answers import load_questions

TEMPLATE = Path(__file__).resolve().parent.parent


CONFIG = load_questions()
QUESTIONS = {key: value for key, value in CONFIG.items() if not key.startswith("_")}
PUBLIC = {key: value for key, value in QUESTIONS.items() if value.get("when") is not False}

#: covertable's seed: another one gives other rows, as valid.
SEED = "copier-flask-service"
#: A factor's value: a switch's True or False, a choice, or a folded switch's choice.
Value = bool | str
#: One answer set in factor space: a value for every factor.
Row = dict[str, Value]


def folded() -> dict[str, str]:
    """Return each question asked only while a switch is on, with that switch."""
    found = {}
    for key, question in PUBLIC.items():
        condition = re.fullmatch(r"\{\{ *(\w+) *\}\}", str(question.get("when", "")))
        if condition:
            found[key] = condition[1]
    return found


FOLDED = folded()


#: Offered Pythons no machine of this project has an interpreter of (uv cannot download one,
#: pyenv stops at 3.13): left out of the covering array, whose generated suites run on this
#: machine, and tested in their stand-in images instead (tests/test_python_versions.py).
CONTAINED_PYTHONS = ("3.14", "3.15")
#: The Python an answer set that names none is rendered with here: copier.yml's default, or,
#: where that is contained, the newest offered version this machine runs. The default itself
#: is tested in its image (the defaults and everything on, tests/test_python_versions.py).
HOST_PYTHON: str = (
    QUESTIONS["python_version"]["default"]
    if QUESTIONS["python_version"]["default"] not in CONTAINED_PYTHONS
    else max(
        (v for v in QUESTIONS["python_version"]["choices"].values() if v not in CONTAINED_PYTHONS),
        key=lambda version: tuple(map(int, version.split("."))),
    )
)


def factors() -> dict[str, list[Value]]:
    """Return every public choice and switch of copier.yml with its values, the default first."""
    found: dict[str, list[Value]] = {}
    for key, question in PUBLIC.items():
        if "choices" in question:
            values: list[Value] = list(question["choices"].values())
            if key == "python_version":
                values = [value for value in values if value not in CONTAINED_PYTHONS]
        elif question["type"] == "bool":
            values = [True, False]
        else:
            continue
        default = HOST_PYTHON if key == "python_version" else question["default"]
        values.sort(key=lambda value: value != default)
        if key in FOLDED:
            found[FOLDED[key]] = [False, *values]  # off, or on with each of its values
        else:
            found[key] = values
    return found


FACTORS = factors()


def answers_of(row: Mapping[str, Value]) -> dict[str, Value]:
    """Return the answers for copier.yml that `row` stands for."""
    switches = {switch: key for key, switch in FOLDED.items()}
    answers: dict[str, Value] = {}
    for factor, value in row.items():
        if factor in switches:
            answers[factor] = value is not False
            if value is not False:
                answers[switches[factor]] = value
        else:
            answers[factor] = value
    return answers


def row_of(answers: Mapping[str, Any]) -> Row:
    """Return the row of `answers`, with copier.yml's default for each answer left out."""
    row: Row = {}
    for factor, values in FACTORS.items():
        row[factor] = answers.get(factor, values[0])
    for key, switch in FOLDED.items():
        if row[switch] is True:
            row[switch] = answers.get(key, QUESTIONS[key]["default"])
    return row


#: Combinations copier.yml's validators refuse: why, the factors read, and the test.
CONSTRAINTS: list[tuple[str, tuple[str, ...], Callable[[Mapping[str, Value]], bool]]] = [
    (
        "RabbitMQ keeps job results in the service's database",
        ("celery", "database"),
        lambda row: not (row["celery"] == "rabbitmq" and row["database"] == "none"),
    ),
    (
        "Kubernetes pods cannot share one SQLite file",
        ("kubernetes", "database"),
        lambda row: not (row["kubernetes"] is True and row["database"] == "sqlite"),
    ),
]


def allowed(row: Mapping[str, Value]) -> bool:
    """Return whether copier.yml accepts the answers of a complete `row`."""
    return all(test(row) for _, _, test in CONSTRAINTS)


#: The answer sets that matter on their own, checked like every row of the covering array.
NAMED: dict[str, dict[str, Value]] = {
    "defaults": {},
    # Every switch on; choices at their defaults but the database (Kubernetes refuses SQLite).
    "everything-on": {
        "database": "postgresql",
        "celery": True,
        "metrics": True,
        "sentry": True,
        "opentelemetry": True,
        "auth": "oidc",
        "docker": True,
        "kubernetes": True,
    },
    # Every switch off, and `none` for every choice that offers it.
    "everything-off": {
        "database": "none",
        "celery": False,
        "metrics": False,
        "sentry": False,
        "opentelemetry": False,
        "docker": False,
        "ci": "none",
        "kubernetes": False,
    },
}


def covering_array() -> dict[str, Row]:
    """Return the named sets, then the rows that cover every allowed pair, by name."""
    presets = [row_of(answers) for answers in NAMED.values()]
    constraints = [
        {"operator": "fn", "requires": list(keys), "evaluate": test}
        for _, keys, test in CONSTRAINTS
    ]
    made = make(FACTORS, presets=presets, constraints=constraints, salt=SEED)
    rows: list[Row] = [{factor: row[factor] for factor in FACTORS} for row in made]
    assert rows[: len(presets)] == presets, "covertable changed a named set"
    names = [*NAMED, *(f"pairs-{number:02}" for number in range(1, len(rows) - len(NAMED) + 1))]
    return dict(zip(names, rows, strict=True))


#: The longest project_slug and package_name copier.yml accepts: every generated line that
#: holds one stays within ruff's 99 columns.
NAME_LENGTH = 32
#: Project names as people type them, and the slug and package name each gives by default.
ODD_NAMES: dict[str, tuple[str, str, str]] = {
    "plain": ("Example Service", "example-service", "example_service"),
    "punctuation": ("  Billing & Payments API ", "billing-payments-api", "billing_payments_api"),
    "digit-first": ("2fast 2furious", "service-2fast-2furious", "service_2fast_2furious"),
    "digits-only": ("123", "service-123", "service_123"),
    "symbols-only": ("!!!", "service", "service"),
    "emoji-only": ("\N{ROCKET}\N{ROCKET}", "service", "service"),
    "emoji-and-word": ("\N{ROCKET} Rocket", "rocket", "rocket"),
    "accents": ("Café Ünïcode", "cafe-unicode", "cafe_unicode"),
    "ligatures": ("Straße Œuvre Ærø", "strasse-oeuvre-aero", "strasse_oeuvre_aero"),
    "dotted-and-stroked": ("İstanbul Łódź", "istanbul-lodz", "istanbul_lodz"),
    "vietnamese": ("Phở Hà Nội", "pho-ha-noi", "pho_ha_noi"),
    "combining-accent": ("Cafe\u0301 Bar", "cafe-bar", "cafe_bar"),
    "cyrillic": ("Сервис", "service", "service"),
    "cyrillic-and-digit": ("Сервис 2", "service-2", "service_2"),
    "japanese": ("日本語サービス", "service", "service"),
    "markup": (
        '2fast <2furious> \\ "TM"',
        "service-2fast-2furious-tm",
        "service_2fast_2furious_tm",
    ),
    "yaml-boolean": ("Yes", "yes", "yes"),
    "dunder": ("__init__", "init", "init"),
    "stdlib": ("JSON", "json", "json_service"),
    "keyword": ("Class", "class", "class_service"),
    "dependency": ("Flask", "flask-service", "flask_service"),
    "project-folder": ("Tools", "tools", "tools_service"),
    "dependency-distribution": ("Sentry SDK", "sentry-sdk-service", "sentry_sdk_service"),
    "long": ("word " * 30, "-".join(["word"] * 6), "_".join(["word"] * 6)),
    "long-words": (
        "Internationalisation Localisation Service",
        "internationalisation",
        "internationalisation",
    ),
}
#: The names the covering array's rows take in turn, so each project's own checks meet them.
ROW_NAMES = [
    "digit-first",
    "accents",
    "symbols-only",
    "markup",
    "digits-only",
    "cyrillic-and-digit",
    "yaml-boolean",
    "long",
    "dotted-and-stroked",
    "emoji-and-word",
    "ligatures",
    "vietnamese",
    "dependency",
    "japanese",
]
#: Free text as people type it (quotes, backslashes, markup): it must arrive verbatim.
ODD_TEXT = {
    "description": 'Say "hi" from C:\\temp; *not* <b>bold</b> | {{ jinja }} # no comment',
    "author_name": 'O\'Brien "Ops" [team]',
}


def matrix() -> dict[str, dict[str, Value]]:
    """Return every answer set the per-project checks run over, by name."""
    sets: dict[str, dict[str, Value]] = {
        name: {"python_version": HOST_PYTHON, **answers} for name, answers in NAMED.items()
    }
    rows = [(name, row) for name, row in covering_array().items() if name not in NAMED]
    for (name, row), odd in zip(rows, cycle(ROW_NAMES), strict=False):
        sets[name] = {**answers_of(row), "project_name": ODD_NAMES[odd][0], **ODD_TEXT}
    return sets


#: The matrix's columns: each factor, headed as docs/developing.md shows it.
COLUMNS = {factor: factor.replace("_", " ") for factor in FACTORS}


def markdown(rows: Mapping[str, Row]) -> str:
    """Return `rows` as docs/developing.md's Markdown table, with each row's project name."""
    sets = matrix()
    lines = [
        "| set | " + " | ".join(COLUMNS.values()) + " | project_name |",
        "| --- |" + " --- |" * (len(COLUMNS) + 1),
    ]
    for name, row in rows.items():
        cells = [shown(value) for value in row.values()]
        project_name = str(sets[name].get("project_name", "Example Service"))
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {escaped(project_name)} |")
    return "\n".join(lines) + "\n"


def shown(value: Value) -> str:
    """Return a factor's value as the matrix shows it: on, off or the choice."""
    if value is True:
        return "on"
    if value is False:
        return "off"
    return value


def escaped(text: str) -> str:
    """Return `text` for a Markdown table cell, shown as typed."""
    text = text.strip()
    text = f"{text[:24]}…" if len(text) > 25 else text
    return re.sub(r"([\\`*_<>|\[\]])", r"\\\1", text)


if __name__ == "__main__":
    print(markdown(covering_array()), end="")
