"""Measure doctor's precision and recall on the labelled corpus of real Flask codebases.

`uv run python -m tests.doctor_corpus.measure [--docs] CORPUS_DIR`: CORPUS_DIR holds one folder per
codebase of labels.json, by its `name`. doctor runs on each as a team would run it (default
options, so its default skips apply); every reported site (repo, path, line, rule) is joined
with the labels. A reported site nobody labelled is printed and the run exits 1: it must be
judged first. Otherwise the run prints the table per rule that README.md holds, and writes
the reported sites, each with its severity, to reported.json, so that CI, which cannot fetch
the corpus, recomputes the table from labels.json and reported.json alone.

A label judges a site, not a finding, so the labels outlive doctor's versions: `true` is a
real production pitfall of the rule there (doctor should report it), `noisy` is true by the
rule's wording but harmless where it sits, `false` is a site where reporting the rule is
wrong. --docs puts the table in README.md too.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from hooks import doctor

HERE = Path(__file__).parent
LABELS = HERE / "labels.json"
REPORTED = HERE / "reported.json"
DOCS = HERE.parents[1] / "README.md"
TABLE_START, TABLE_END = "<!-- corpus-table -->", "<!-- /corpus-table -->"
#: The sentence that counts the labels.
COUNTS_START, COUNTS_END = "<!-- corpus-counts -->", "<!-- /corpus-counts -->"
#: The table of the codebases doctor was not tuned on (labels.json's `held_out`).
HELD_OUT_START, HELD_OUT_END = "<!-- held-out-table -->", "<!-- /held-out-table -->"
KINDS = ("true", "noisy", "false")

#: Where one rule was (or should be) reported: repository, path from its root, line, rule.
Site = tuple[str, str, int, str]


@dataclass(frozen=True)
class Row:
    """One rule's counts on the corpus."""

    rule: str
    findings: int
    #: Of the findings, those doctor shows as warnings: they do not fail a run.
    warnings: int
    true: int
    noisy: int
    false: int
    #: Of the findings that fail a run (errors), those labelled true.
    true_errors: int
    true_sites: int
    missed: int

    @property
    def precision(self) -> str:
        """Return true findings over findings, as a percentage."""
        return _percent(self.true, self.findings)

    @property
    def error_precision(self) -> str:
        """Return true errors over errors: how often a failed run is right."""
        return _percent(self.true_errors, self.findings - self.warnings)

    @property
    def false_positive_rate(self) -> str:
        """Return false findings over findings, as a percentage."""
        return _percent(self.false, self.findings)

    @property
    def recall(self) -> str:
        """Return true sites reported over true sites, as a percentage."""
        return _percent(self.true_sites - self.missed, self.true_sites)


def _percent(part: int, whole: int) -> str:
    """Return part / whole as a whole percentage, or a dash when there is nothing to divide."""
    return f"{round(100 * part / whole)} %" if whole else "-"


def site_of(entry: dict[str, object]) -> Site:
    """Return the site a label or a reported entry names."""
    return (str(entry["repo"]), str(entry["path"]), int(str(entry["line"])), str(entry["rule"]))


def load_labels(path: Path = LABELS) -> dict[str, list[dict[str, object]]]:
    """Read labels.json."""
    data: dict[str, list[dict[str, object]]] = json.loads(path.read_text())
    return data


def load_reported(path: Path = REPORTED) -> dict[Site, str]:
    """Read the sites the last measure saw doctor report, with each one's severity."""
    entries = json.loads(path.read_text())["reported"]
    return {site_of(entry): str(entry["severity"]) for entry in entries}


def unlabelled(labels: dict[str, list[dict[str, object]]], reported: Iterable[Site]) -> list[Site]:
    """Return the reported sites that have no label."""
    known = {site_of(site) for site in labels["sites"]}
    return sorted(set(reported) - known)


def held_out(labels: dict[str, list[dict[str, object]]]) -> set[str]:
    """Return the repositories doctor was not tuned on: measured, never used to change it."""
    return {str(c["repo"]) for c in labels["codebases"] if c.get("held_out")}


def table(
    labels: dict[str, list[dict[str, object]]],
    reported: Mapping[Site, str],
    repos: Callable[[str], bool] = lambda repo: True,
) -> list[Row]:
    """Count, per rule, the labelled sites doctor reported and the true ones it missed.

    `reported` maps each reported site to its severity (error or warning); `repos` picks the
    codebases counted.
    """
    kinds = {
        site_of(site): str(site["label"]) for site in labels["sites"] if repos(str(site["repo"]))
    }
    seen = {site for site in reported if repos(site[0])}
    # Every rule of this doctor has a row, so a rule the corpus never exercises shows as such.
    rules = sorted({*doctor.RULES, *(site[3] for site in kinds), *(site[3] for site in seen)})
    rows = []
    for rule in rules:
        mine = [site for site in seen if site[3] == rule]
        found = [kinds.get(site, "unlabelled") for site in mine]
        true_sites = [site for site, kind in kinds.items() if site[3] == rule and kind == "true"]
        rows.append(
            Row(
                rule=rule,
                findings=len(found),
                warnings=sum(reported[site] == "warning" for site in mine),
                true=found.count("true"),
                noisy=found.count("noisy"),
                false=found.count("false"),
                true_errors=sum(
                    reported[site] != "warning" and kinds.get(site) == "true" for site in mine
                ),
                true_sites=len(true_sites),
                missed=sum(site not in seen for site in true_sites),
            )
        )
    return rows


def total(rows: Sequence[Row]) -> Row:
    """Return the rows summed: the whole corpus."""
    return Row("total", *(sum(getattr(row, name) for row in rows) for name in ROW_COUNTS))


def markdown(rows: Sequence[Row]) -> str:
    """Lay the rows out as README.md's table, with a total row."""
    whole = total(rows)
    lines = [
        "| rule | findings | of them warnings | true | noisy | false | precision "
        "| errors that are true | false positives | sites labelled true | missed | recall |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in [*rows, whole]:
        name = f"**{row.rule}**" if row is whole else row.rule
        lines.append(
            f"| {name} | {row.findings} | {row.warnings} | {row.true} | {row.noisy} "
            f"| {row.false} | {row.precision} | {row.error_precision} "
            f"| {row.false_positive_rate} | {row.true_sites} | {row.missed} | {row.recall} |"
        )
    return "\n".join(lines) + "\n"


ROW_COUNTS = (
    "findings",
    "warnings",
    "true",
    "noisy",
    "false",
    "true_errors",
    "true_sites",
    "missed",
)


def reported_sites(
    corpus: Path, codebases: Iterable[dict[str, object]]
) -> dict[Site, doctor.Finding]:
    """Run doctor with its default options on each codebase; return its sites' findings."""
    sites = {}
    for codebase in codebases:
        folder = corpus / str(codebase["name"])
        if not folder.is_dir():
            raise SystemExit(f"measure: {folder} is missing: export {codebase['repo']} there")
        for finding in doctor.analyse([folder]).findings:
            path = Path(finding.path).resolve().relative_to(folder.resolve()).as_posix()
            sites[(str(codebase["repo"]), path, finding.line, finding.rule)] = finding
    return sites


def tables(
    labels: dict[str, list[dict[str, object]]], reported: Mapping[Site, str]
) -> tuple[str, str]:
    """Return the tables of the codebases doctor was tuned on, and of those held out."""
    out = held_out(labels)
    return (
        markdown(table(labels, reported, lambda repo: repo not in out)),
        markdown(table(labels, reported, lambda repo: repo in out)),
    )


def summary(labels: dict[str, list[dict[str, object]]], reported: Mapping[Site, str]) -> str:
    """Return the sentence that counts the labelled sites, reported and not."""
    kinds = [str(site["label"]) for site in labels["sites"]]
    silent = [site for site in labels["sites"] if site_of(site) not in reported]
    misses = sum(site["label"] == "true" for site in silent)
    return (
        f"{len(kinds)} sites are labelled ({kinds.count('true')} true, {kinds.count('noisy')} "
        f"noisy, {kinds.count('false')} false) in {len(labels['codebases'])} codebases: the "
        f"{len(reported)} sites today's doctor reports, and {len(silent)} it does not ({misses} "
        f"misses, and {len(silent) - misses} look-alikes, where a rule must stay silent).\n"
    )


def between(text: str, start: str, end: str) -> str:
    """Return what `text` holds between the markers `start` and `end`."""
    return text.split(start, 1)[1].split(end, 1)[0]


def write_docs(tuned: str, out: str, counts: str, docs: Path = DOCS) -> None:
    """Put the tables and the counts between README.md's markers."""
    text = docs.read_text()
    for start, end, table_text in (
        (COUNTS_START, COUNTS_END, counts),
        (TABLE_START, TABLE_END, tuned),
        (HELD_OUT_START, HELD_OUT_END, out),
    ):
        before, rest = text.split(start, 1)
        after = rest.split(end, 1)[1]
        text = f"{before}{start}\n{table_text}{end}{after}"
    docs.write_text(text)


def main(argv: Sequence[str] | None = None) -> int:
    """Measure the corpus in the folder named; print the unlabelled findings or the table.

    With --docs, also put the table in README.md.
    """
    args = sys.argv[1:] if argv is None else list(argv)
    docs = "--docs" in args
    args = [arg for arg in args if arg != "--docs"]
    if len(args) != 1:
        print("usage: python -m tests.doctor_corpus.measure [--docs] CORPUS_DIR", file=sys.stderr)
        return 2
    labels = load_labels()
    found = reported_sites(Path(args[0]), labels["codebases"])
    reported = {site: found[site].severity for site in sorted(found)}
    entries = [
        {"repo": repo, "path": path, "line": line, "rule": rule, "severity": severity}
        for (repo, path, line, rule), severity in reported.items()
    ]
    REPORTED.write_text(json.dumps({"reported": entries}, indent=1) + "\n")
    missing = unlabelled(labels, reported)
    if missing:
        names = {str(c["repo"]): str(c["name"]) for c in labels["codebases"]}
        for site in missing:
            repo, path, line, rule = site
            print(f"{names[repo]}/{path}:{line} {rule} {found[site].message}")
        print(f"measure: {len(missing)} unlabelled finding(s): label them", file=sys.stderr)
        return 1
    tuned, out = tables(labels, reported)
    print(f"Tuned on:\n{tuned}\nHeld out:\n{out}", end="")
    if docs:
        write_docs(tuned, out, summary(labels, reported))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
