"""Minimal snippets that reproduce what doctor met in real Flask codebases.

Each snippet is a small project: its files by path below the project root, with every
finding doctor must make marked `# expect: RULE` at the end of its line (any text file: a
Dockerfile or a Procfile too), and no finding elsewhere. Paths decide test code as doctor
does (`tests/`, `test_*.py`, `conftest.py`). The snippets are our own code, written to show
one pattern each; the codebases they come from are named in labels.json, never copied.

- views.py: how real apps declare views, hooks, hand-offs and gunicorn settings;
- rules.py: what each rule must and must not report;
- real.py: patterns from the labelled corpus (labels.json names them by snippet).
"""

from __future__ import annotations

from tests.doctor_corpus import real, rules, views

#: Every snippet by its name; a name is used once across the three modules.
SNIPPETS: dict[str, dict[str, str]] = {}
for _module in (views, rules, real):
    for _name, _files in _module.SNIPPETS.items():
        if _name in SNIPPETS:
            raise ValueError(f"snippet {_name!r} is defined twice ({_module.__name__})")
        SNIPPETS[_name] = _files
