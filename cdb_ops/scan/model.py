"""What a scan produces. A finding names where and which detector, and carries a fingerprint of the
secret, never the secret: the value stays inside the detector that found it."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

# The fingerprint is salted with a fixed label so it cannot be looked up in generic SHA-256 tables of
# leaked passwords, and so allow-list entries written for one tool are not silently valid for another.
_FINGERPRINT_LABEL = b"cdb-scan/v1\x00"


def fingerprint(secret: str) -> str:
    """Stable identifier of a secret value, for allow-list entries and SARIF partial fingerprints."""
    return hashlib.sha256(_FINGERPRINT_LABEL + secret.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Detector:
    """One rule of the scan, as reported in SARIF `rules` and in `--help` output."""

    id: str
    description: str
    source: str  # "detect-secrets" or "cdb"


@dataclass(frozen=True, order=True)
class Finding:
    path: str  # POSIX path relative to the scan root (or as given when outside it)
    line: int
    detector: str
    fingerprint: str
    description: str = field(compare=False)


@dataclass
class ScanResult:
    findings: list[Finding]
    allowlisted: list[Finding]
    files_scanned: int
    # Files or checks that could not run; listed in every report so a skipped file is never a silent pass.
    warnings: list[str]
    unused_allow_entries: list[str]
    detectors: dict[str, Detector]

    @property
    def exit_code(self) -> int:
        return 1 if self.findings else 0
