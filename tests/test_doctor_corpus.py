"""doctor on the snippets that reproduce what it met in real codebases (tests/doctor_corpus).

Also the labelled corpus: labels.json well-formed, the precision and recall table in README.md
recomputed from labels.json and the sites the last measure saw reported, and the targets it
meets held.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.doctor_corpus import SNIPPETS
from tests.doctor_corpus.measure import (
    DOCS,
    HELD_OUT_END,
    HELD_OUT_START,
    KINDS,
    TABLE_END,
    TABLE_START,
    between,
    held_out,
    load_labels,
    load_reported,
    reported_sites,
    site_of,
    table,
    tables,
    total,
    unlabelled,
)
from tests.support.doctor_cases import expected, findings, write


@pytest.mark.parametrize("files", SNIPPETS.values(), ids=SNIPPETS.keys())
def test_each_snippet_gets_exactly_its_expected_findings(
    tmp_path: Path, files: dict[str, str]
) -> None:
    write(tmp_path, files)
    assert findings(tmp_path) == expected(tmp_path, files)


def tuned(labels: dict[str, list[dict[str, object]]]) -> dict[str, list[dict[str, object]]]:
    """Return the labels of the codebases doctor was tuned on: held-out ones are measured apart."""
    held_out = {codebase["repo"] for codebase in labels["codebases"] if codebase.get("held_out")}
    return {
        "codebases": [c for c in labels["codebases"] if c["repo"] not in held_out],
        "sites": [site for site in labels["sites"] if site["repo"] not in held_out],
    }


def test_labels_are_well_formed() -> None:
    labels = load_labels()
    names = [codebase["name"] for codebase in labels["codebases"]]
    repos = {codebase["repo"] for codebase in labels["codebases"]}
    assert len(names) == len(set(names)) >= 8
    assert all(len(str(codebase["commit"])) == 40 for codebase in labels["codebases"])
    for codebase in labels["codebases"]:
        # held_out: a codebase doctor was not tuned on, measured apart from the others.
        assert {"name", "repo", "commit", "style", "lines"} <= set(codebase), codebase
        assert set(codebase) <= {"name", "repo", "commit", "style", "lines", "held_out"}, codebase
        assert isinstance(codebase.get("held_out", False), bool), codebase
        assert isinstance(codebase["lines"], int), codebase
    assert len(tuned(labels)["codebases"]) >= 8
    sites = [site_of(site) for site in labels["sites"]]
    assert len(sites) == len(set(sites)), "a site is labelled twice"
    for site in labels["sites"]:
        assert set(site) == {"repo", "path", "line", "rule", "label", "why", "snippet"}, site
        assert site["label"] in KINDS, site
        assert site["snippet"] in SNIPPETS, site
        assert site["repo"] in repos, site
        assert str(site["why"]).strip(), site
        assert str(site["rule"]).startswith("FD"), site


def test_every_real_snippet_is_named_by_a_label() -> None:
    named = {site["snippet"] for site in load_labels()["sites"]}
    assert {name for name in SNIPPETS if name.startswith("real-")} <= named


def test_the_readme_holds_the_tables_recomputed_from_labels_and_reported_sites() -> None:
    labels, reported = load_labels(), load_reported()
    assert not unlabelled(labels, reported), "run the measure and label what it prints"
    tuned, out = tables(labels, reported)
    readme = DOCS.read_text()
    assert between(readme, TABLE_START, TABLE_END).strip() == tuned.strip()
    assert between(readme, HELD_OUT_START, HELD_OUT_END).strip() == out.strip()


def test_the_table_counts_hits_noise_false_positives_and_misses() -> None:
    def label(line: int, kind: str) -> dict[str, object]:
        return {"repo": "o/r", "path": "a.py", "line": line, "rule": "FD301", "label": kind}

    labels = {"codebases": [], "sites": [label(1, "true"), label(2, "true"), label(3, "noisy")]}
    labels["sites"] += [label(4, "false"), label(5, "false")]
    reported = {("o/r", "a.py", line, "FD301"): "error" for line in (1, 3, 4, 5)}
    reported[("o/r", "a.py", 3, "FD301")] = "warning"
    (row,) = [row for row in table(labels, reported) if row.rule == "FD301"]
    assert (row.findings, row.warnings, row.true, row.noisy, row.false) == (4, 1, 1, 1, 2)
    assert (row.true_sites, row.missed, row.true_errors) == (2, 1, 1)
    assert (row.precision, row.false_positive_rate, row.recall) == ("25 %", "50 %", "50 %")
    assert row.error_precision == "33 %"  # of the three errors, one is true
    assert unlabelled(labels, [*reported, ("o/r", "a.py", 9, "FD301")]) == [
        ("o/r", "a.py", 9, "FD301")
    ]


def test_the_corpus_meets_the_targets() -> None:
    # Of what fails a run, at least 80 % true; no rule wrong on more than 20 % of its findings.
    labels = load_labels()
    out = held_out(labels)
    rows = table(labels, load_reported(), lambda repo: repo not in out)
    whole = total(rows)
    assert whole.true_errors >= 0.8 * (whole.findings - whole.warnings)
    for row in rows:
        assert row.false <= 0.2 * row.findings, row


def test_the_readme_counts_the_labelled_sites_as_labels_json_does() -> None:
    labels, reported = load_labels(), set(load_reported())
    kinds = [str(site["label"]) for site in labels["sites"]]
    silent = [site for site in labels["sites"] if site_of(site) not in reported]
    misses = sum(site["label"] == "true" for site in silent)
    said = " ".join(DOCS.read_text().split())
    assert (
        f"{len(kinds)} sites are labelled ({kinds.count('true')} true, {kinds.count('noisy')} "
        f"noisy, {kinds.count('false')} false) in {len(labels['codebases'])} codebases: the "
        f"{len(reported)} sites today's doctor reports, and {len(silent)} it does not ({misses} "
        f"misses, and {len(silent) - misses} look-alikes"
    ) in said


def test_the_measure_reports_sites_below_each_codebase_by_its_repository(tmp_path: Path) -> None:
    write(tmp_path / "shop", SNIPPETS["real-hook-mutates-app-config"])
    codebases: list[dict[str, object]] = [{"name": "shop", "repo": "acme/shop"}]
    site = ("acme/shop", "shop/app.py", 10, "FD301")
    assert list(reported_sites(tmp_path, codebases)) == [site]
