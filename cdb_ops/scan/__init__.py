"""`cdb scan`: secrets in the repository and in rendered output (CDB_INFRA_POLICY clause 6).

detect-secrets' plugins (through its Python API) plus our own detectors; findings never carry the
secret value; an audited allow-list with a reason per entry handles false positives.
"""

from cdb_ops.scan.allowlist import DEFAULT_ALLOWLIST, AllowListError, load_allowlist
from cdb_ops.scan.model import Finding, ScanResult, fingerprint
from cdb_ops.scan.report import FORMATS, render
from cdb_ops.scan.scanner import detector_registry, scan

__all__ = ["DEFAULT_ALLOWLIST", "FORMATS", "AllowListError", "Finding", "ScanResult", "detector_registry",
           "fingerprint", "load_allowlist", "render", "scan"]
