"""The scan itself: detect-secrets' plugins through its Python API, then our own detectors, then the
allow-list. Secret values live only inside this module's loops; what leaves it is a `Finding`."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import yaml

from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
from detect_secrets.core.scan import scan_file
from detect_secrets.settings import transient_settings

from cdb_core import yaml_limits
from cdb_ops.scan import files
from cdb_ops.scan.allowlist import load_allowlist, partition
from cdb_ops.scan.detectors import (
    OWN_DETECTORS, UncheckedFile, ciphertext_lines, is_stack_file, run_own_detectors,
)
from cdb_ops.scan.model import Detector, Finding, ScanResult, fingerprint

# Public IP addresses are not credentials, and infrastructure code names them on purpose (DNS, egress).
_EXCLUDED_PLUGINS = {"IPPublicDetector"}
# Inline `pragma: allowlist secret` would be an exception without a reason; the allow-list file is the
# only way to accept a finding.
_DISABLED_FILTERS = ("detect_secrets.filters.allowlist.is_line_allowlisted",)


def _plugin_classes() -> dict[str, type]:
    return {cls.__name__: cls for cls in get_mapping_from_secret_type_to_class().values()
            if cls.__name__ not in _EXCLUDED_PLUGINS}


def detector_registry() -> dict[str, Detector]:
    registry = {
        name: Detector(name, f"detect-secrets: {cls.secret_type}", "detect-secrets")
        for name, cls in sorted(_plugin_classes().items())
    }
    registry.update({detector.id: detector for detector, _, _ in OWN_DETECTORS})
    return registry


# A hex value whose key names a digest (`sha256: ...`, `commit: ...`, `config-hash: ...`, `REVISION = ...`)
# is a checksum or Git revision: hex is exactly what digests look like, and they change with every edit,
# so allow-listing them one by one would churn.
_DIGEST_KEY = re.compile(r"(?i)(sha|sha1|sha256|sha512|digest|checksum|hash|commit|revision)[\"']?\s*[:=]")


def _is_labelled_digest(detector: str, lines: list[str], number: int) -> bool:
    return detector == "HexHighEntropyString" and 0 < number <= len(lines) \
        and bool(_DIGEST_KEY.search(lines[number - 1]))


def _superseded(shown: str, detector: str) -> bool:
    """In Pulumi stack files the structural PulumiPlaintextConfig replaces the keyword heuristic, which
    flags references such as `vaultSecretPath: secret/data/app` or `{secret: db, key: url}`."""
    return detector == "KeywordDetector" and is_stack_file(shown)


def _yaml_limit_problem(path: Path, shown: str, text: str | None) -> str | None:
    if text is None or path.suffix.lower() not in (".yaml", ".yml"):
        return None
    try:
        yaml_limits.compose_all(text, shown)
    except yaml_limits.YamlLimitError as exc:
        return str(exc)
    except yaml.YAMLError:  # not YAML after all: detect-secrets falls back to lines by itself
        return None
    return None


def _scan_file(path: Path, text: str | None, as_lines: bool) -> list:
    """detect-secrets' findings; a YAML file over the limits is read `as_lines`, never expanded (its
    YAML transformer would follow every alias of a bomb until memory runs out)."""
    if not as_lines:
        return list(scan_file(str(path)))
    with tempfile.TemporaryDirectory() as folder:
        plain = Path(folder) / (path.name + ".txt")
        plain.write_text(text or "", encoding="utf-8")
        return list(scan_file(str(plain)))


def _detect_secrets_findings(path: Path, shown: str, text: str | None, by_type: dict[str, str],
                             as_lines: bool = False) -> list[Finding]:
    skip_lines = ciphertext_lines(shown, text) if text is not None else set()
    lines = text.splitlines() if text is not None else []
    found = []
    for secret in _scan_file(path, text, as_lines):
        detector = by_type.get(secret.type)
        if detector is None or secret.secret_value is None:
            continue
        if secret.line_number in skip_lines or _superseded(shown, detector) \
                or _is_labelled_digest(detector, lines, secret.line_number):
            continue
        found.append(Finding(shown, secret.line_number, detector, fingerprint(secret.secret_value),
                             f"{secret.type} in plain text"))
    return found


def _own_findings(shown: str, text: str, warnings: list[str]) -> list[Finding]:
    found = []
    try:
        for detector, hit in run_own_detectors(shown, text):
            found.append(Finding(shown, hit.line, detector.id, fingerprint(hit.secret), hit.description))
    except UncheckedFile as exc:
        warnings.append(f"{shown}: structure not checked: {exc}")
    return found


def scan(paths: list[Path], root: Path, allowlist_path: Path, full_repository: bool = True) -> ScanResult:
    """Scan the given files. `root` makes reported paths repository-relative, as allow-list entries are.

    Allow-list entries that matched nothing are reported only for a `full_repository` scan: scanning a
    subset, an entry for a file outside it is not stale, merely not looked at."""
    entries = load_allowlist(allowlist_path)
    classes = _plugin_classes()
    by_type = {cls.secret_type: name for name, cls in classes.items()}
    warnings: list[str] = []
    findings: list[Finding] = []
    scanned = 0
    skip = allowlist_path.resolve() if allowlist_path.exists() else None
    with transient_settings({"plugins_used": [{"name": name} for name in sorted(classes)]}) as settings:
        settings.disable_filters(*_DISABLED_FILTERS)
        for path in paths:
            if path.is_symlink() or not path.is_file() or path.resolve() == skip:
                continue
            shown = files.display_path(path, root)
            text, problem = files.read_text(path)
            if problem:
                warnings.append(f"{shown}: not scanned: {problem}")
                continue
            scanned += 1
            too_large = _yaml_limit_problem(path, shown, text)
            if too_large:
                warnings.append(f"{too_large}; scanned as plain lines only")
            findings.extend(_detect_secrets_findings(path, shown, text, by_type, as_lines=bool(too_large)))
            if text is not None:
                findings.extend(_own_findings(shown, text, warnings))
    unique = sorted(set(findings))
    blocking, allowed, unused = partition(unique, entries)
    return ScanResult(findings=blocking, allowlisted=allowed, files_scanned=scanned, warnings=warnings,
                      unused_allow_entries=unused if full_repository else [], detectors=detector_registry())
