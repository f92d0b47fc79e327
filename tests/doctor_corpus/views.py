"""Doctor's snippets: views (see tests/doctor_corpus/__init__.py)."""

SNIPPETS: dict[str, dict[str, str]] = {}
