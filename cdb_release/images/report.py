"""Text, JSON and SARIF 2.1.0 for `cdb images`. Every finding names image, workload and clause."""

from __future__ import annotations

import json
from pathlib import Path

from cdb_release.images.criteria import CLAUSE, RULES, Finding

FORMATS = ("text", "json", "sarif")


def render(findings: list[Finding], images: dict[str, str], fmt: str) -> str:
    if fmt == "json":
        return json.dumps({"version": 1, "images": images,
                           "findings": [f.__dict__ for f in findings]}, indent=2) + "\n"
    if fmt == "sarif":
        return json.dumps(_sarif(findings, images), indent=2) + "\n"
    lines = [f"{f.image} [{f.workload}] clause {f.clause}: {f.rule}: {f.message}" for f in findings]
    verdict = (f"{len(findings)} finding(s) in {len(images)} image(s)" if findings
               else f"{len(images)} image(s) meet clause {CLAUSE}")
    return "\n".join(lines + [verdict]) + "\n"


def _location(finding: Finding) -> dict:
    location: dict = {"logicalLocations": [{"name": finding.workload, "kind": "resource"}]}
    if finding.source:
        location["physicalLocation"] = {"artifactLocation": {"uri": _relative(finding.source)},
                                        "region": {"startLine": 1}}
    return location


def _relative(path: str) -> str:
    try:
        return Path(path).resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return Path(path).as_posix()


def _sarif(findings: list[Finding], images: dict[str, str]) -> dict:
    rules = sorted(RULES)
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "cdb images", "rules": [
                {"id": r, "shortDescription": {"text": RULES[r]}, "properties": {"clause": CLAUSE}}
                for r in rules]}},
            "results": [{
                "ruleId": f.rule, "ruleIndex": rules.index(f.rule), "level": "error",
                "message": {"text": f"{f.image} ({images.get(f.image, 'digest unknown')}) in {f.workload}: "
                                    f"{f.message} (clause {f.clause})"},
                "locations": [_location(f)],
                "properties": {"image": f.image, "workload": f.workload, "clause": f.clause},
            } for f in findings],
        }],
    }
