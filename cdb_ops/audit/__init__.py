"""`cdb audit`: a tamper-evident audit log (hash chain of Ed25519-signed JSON records under S3 Object
Lock in COMPLIANCE mode) for merges, drift and break-glass changes (CDB_INFRA_POLICY 2.2-2.4)."""

from cdb_ops.audit.chain import Verification, drain, verify
from cdb_ops.audit.records import GENESIS, SCHEMA_VERSION, Pending, digest
from cdb_ops.audit.service import submit
from cdb_ops.audit.signing import Signer, load_signer, load_trusted_keys
from cdb_ops.audit.spool import Spool, default_spool_dir
from cdb_ops.audit.store import S3Store, StoreSettings, StoreUnavailable

__all__ = ["GENESIS", "SCHEMA_VERSION", "Pending", "S3Store", "Spool", "StoreSettings", "StoreUnavailable",
           "Signer", "Verification", "default_spool_dir", "digest", "drain", "load_signer", "load_trusted_keys", "submit",
           "verify"]
