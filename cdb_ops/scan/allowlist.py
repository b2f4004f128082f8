"""The audited allow-list for false positives (`.secrets-allowlist.yaml` at the repository root).

Format (version 1):

    version: 1
    entries:
      - path: tests/data/example.yaml     # repository-relative POSIX path, exact
        detector: KubernetesSecretData    # detector id as printed by `cdb scan`
        line: 12                          # either the line ...
        fingerprint: 3f9a...              # ... or the fingerprint `cdb scan --format json` prints
        reason: "documentation example, the value is not a credential"

An entry without a reason, with an unknown key, or with neither line nor fingerprint is an input error:
an exception nobody can explain is not audited. Inline `pragma: allowlist secret` comments are not
honoured for the same reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from cdb_core import yaml_limits
from cdb_core.errors import CdbError
from cdb_ops.scan.model import Finding

DEFAULT_ALLOWLIST = ".secrets-allowlist.yaml"
_KEYS = {"path", "detector", "line", "fingerprint", "reason"}
_FINGERPRINT = re.compile(r"^[0-9a-f]{64}$")


class AllowListError(CdbError):
    """The allow-list file cannot be used; the message names the entry and the fix."""


@dataclass(frozen=True)
class AllowEntry:
    path: str
    detector: str
    reason: str
    line: int | None = None
    fingerprint: str | None = None

    def matches(self, finding: Finding) -> bool:
        if finding.path != self.path or finding.detector != self.detector:
            return False
        if self.fingerprint is not None and finding.fingerprint != self.fingerprint:
            return False
        return self.line is None or finding.line == self.line

    def describe(self) -> str:
        where = f"line {self.line}" if self.line is not None else f"fingerprint {self.fingerprint[:12]}…"
        return f"{self.path} {where} ({self.detector})"


def _entry(raw: object, where: str) -> AllowEntry:
    if not isinstance(raw, dict):
        raise AllowListError(f"{where}: an entry must be a mapping with path, detector, line or fingerprint, reason")
    unknown = set(raw) - _KEYS
    if unknown:
        raise AllowListError(f"{where}: unknown key(s) {', '.join(sorted(map(str, unknown)))}; "
                             f"allowed: {', '.join(sorted(_KEYS))}")
    reason = raw.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise AllowListError(f"{where}: entry has no reason; say why this finding is not a secret")
    for key in ("path", "detector"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            raise AllowListError(f"{where}: `{key}` is required and must be a string")
    line, fp = raw.get("line"), raw.get("fingerprint")
    if line is None and fp is None:
        raise AllowListError(f"{where}: give `line` or `fingerprint` so the entry covers one finding, not a file")
    if line is not None and (not isinstance(line, int) or isinstance(line, bool) or line < 1):
        raise AllowListError(f"{where}: `line` must be a positive integer")
    if fp is not None and (not isinstance(fp, str) or not _FINGERPRINT.match(fp)):
        raise AllowListError(f"{where}: `fingerprint` must be the 64 hex digits `cdb scan --format json` prints")
    return AllowEntry(path=raw["path"].strip(), detector=raw["detector"].strip(), reason=reason.strip(),
                      line=line, fingerprint=fp)


def load_allowlist(path: Path) -> list[AllowEntry]:
    """Missing file means no exceptions. A file that exists must be valid in full."""
    if not path.is_file():
        return []
    try:
        data = yaml_limits.load(path.read_text(encoding="utf-8"), str(path))
    except yaml_limits.YamlLimitError as exc:
        raise AllowListError(str(exc)) from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise AllowListError(f"{path}: cannot read the allow-list ({str(exc).splitlines()[0]})") from exc
    if data is None:
        return []
    if not isinstance(data, dict) or data.get("version") != 1 or set(data) - {"version", "entries"}:
        raise AllowListError(f"{path}: expected a mapping with `version: 1` and `entries: [...]`")
    raw_entries = data.get("entries") or []
    if not isinstance(raw_entries, list):
        raise AllowListError(f"{path}: `entries` must be a list")
    return [_entry(raw, f"{path}: entries[{index}]") for index, raw in enumerate(raw_entries)]


def partition(findings: list[Finding], entries: list[AllowEntry]) -> tuple[list[Finding], list[Finding], list[str]]:
    """Split findings into (blocking, allow-listed) and name the entries that matched nothing."""
    used: set[int] = set()
    blocking, allowed = [], []
    for finding in findings:
        hit = next((i for i, entry in enumerate(entries) if entry.matches(finding)), None)
        if hit is None:
            blocking.append(finding)
        else:
            used.add(hit)
            allowed.append(finding)
    unused = [entry.describe() for i, entry in enumerate(entries) if i not in used]
    return blocking, allowed, unused
