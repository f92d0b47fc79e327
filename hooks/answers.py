"""The template's questions, read as Copier reads copier.yml, and answers that name none.

Copier passes an answer whose key is no question (`--data-file`, `-d`) into the render and
forgets it: a platform's presets file that says `sentry_dns: true` would make a service
without Sentry and no word said. The copy and update tasks refuse such keys here, with the
question meant where one is close. Standard library and PyYAML only (Copier's Python).
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

import yaml

TEMPLATE = Path(__file__).resolve().parent.parent


def load_questions(root: Path = TEMPLATE) -> dict[str, Any]:
    """Parse root/copier.yml and its includes into one mapping, as Copier merges them."""

    class Loader(yaml.SafeLoader):
        pass

    def include(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
        if not isinstance(node, yaml.ScalarNode):
            raise yaml.constructor.ConstructorError(
                None, None, "!include takes a path", node.start_mark
            )
        return yaml.safe_load((root / loader.construct_scalar(node)).read_text())

    Loader.add_constructor("!include", include)
    merged: dict[str, Any] = {}
    for document in yaml.load_all((root / "copier.yml").read_text(), Loader):
        merged.update(document)
    return merged


def question_names(root: Path = TEMPLATE) -> list[str]:
    """Return every question's key, asked or computed, in copier.yml's order."""
    return [key for key in load_questions(root) if not key.startswith("_")]


def unknown_keys(keys: list[str], root: Path = TEMPLATE) -> str:
    """Return the message refusing the keys of `keys` that are no question, or ""."""
    names = question_names(root)
    unknown = [key for key in keys if key not in names]
    if not unknown:
        return ""
    described = []
    for key in unknown:
        close = difflib.get_close_matches(key, names, n=1)
        described.append(f"`{key}` (did you mean `{close[0]}`?)" if close else f"`{key}`")
    return (
        f"Refused: the answers given (-d, --data-file) name {len(unknown)} key(s) that are no "
        f"question of this template: {', '.join(described)}. Correct or remove them; the "
        "questions are the README's table (Questions). Nothing was kept."
    )
