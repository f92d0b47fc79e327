"""One option, one place: shared files name no option, so that options stop multiplying.

Counts what `../shared/tools/jinja_census.py` counts: the Jinja constructs that name a
question (`{% if %}`, `{% elif %}`, `{% set %}`, and inline `{{ … if … }}`), in the template
and in includes/.
"""

from __future__ import annotations

import re
from pathlib import Path

from tests.answers import QUESTIONS
from tests.support.projects import TEMPLATE

#: Files every service has, which iterate over the features and name none.
CORE = [
    "src/{{package_name}}/config.py",
    "src/{{package_name}}/__init__.py",
    "src/{{package_name}}/logs.py",
    "src/{{package_name}}/request_log.py",
    "gunicorn.conf.py.jinja",
    "tests/conftest.py.jinja",
]
#: The most constructs that may name a question, in all (issue 28's target).
MOST = 120
TAG = re.compile(r"{%-?\s*(?:if|elif|set)\b(.*?)-?%}", re.S)
INLINE = re.compile(r"{{-?(.*?)-?}}", re.S)


def constructs(text: str) -> list[set[str]]:
    """Return, for each construct of `text` that names a question, the questions it names."""
    expressions = TAG.findall(text)
    expressions += [found for found in INLINE.findall(text) if " if " in f" {found} "]
    named = [{name for name in QUESTIONS if re.search(rf"\b{name}\b", expression)}
             for expression in expressions]  # fmt: skip
    return [names for names in named if names]


def template_files() -> dict[str, str]:
    """Return the text of every file of the template and includes/, by its path."""
    roots = [TEMPLATE / "template", TEMPLATE / "includes"]
    found = {}
    for path in sorted(path for root in roots for path in root.rglob("*") if path.is_file()):
        try:
            found[path.relative_to(TEMPLATE).as_posix()] = path.read_text()
        except UnicodeDecodeError:
            continue
    return found


def test_the_core_files_name_no_option() -> None:
    for name in CORE:
        path: Path = TEMPLATE / "template" / name
        assert constructs(path.read_text()) == [], f"{name} names an option"


def test_no_construct_names_two_options_and_few_name_one() -> None:
    counted = {path: constructs(text) for path, text in template_files().items()}
    both = [(path, names) for path, found in counted.items() for names in found if len(names) > 1]
    assert both == []
    total = sum(len(found) for found in counted.values())
    assert total <= MOST, f"{total} constructs name a question; the most is {MOST}"


#: What only the feature that checks callers may say: its condition, its settings, its words.
CALLER_CHECK = re.compile(r"\bauth\s*[!=]=|oidc|OIDC_|\bjwks?\b|dev-token", re.I)
#: The core sentence for `auth=none`, which names the answer to type instead.
ANSWER_TO_TYPE = "auth=oidc`"
#: Every dependency's module and distribution names, which each feature adds to.
NAMES = "includes/reserved_names.yml"


def test_the_auth_option_reaches_only_its_own_files() -> None:
    """Issue 29's measure of the layout: an option is copier.yml and files of its own."""
    reaching = []
    for path, text in template_files().items():
        own = "oidc" in path  # its fragments' folder, or a name under its condition
        if not own and path != NAMES and CALLER_CHECK.search(text.replace(ANSWER_TO_TYPE, "")):
            reaching.append(path)
    assert reaching == []
