"""Operational tools: the event migration (events), the audit log (audit), the secret scan (scan), the
post-deploy checks (postcheck) and the secret store writer (secret_store).

Their dependencies (boto3, nats-py, redis, hvac) are the `ops` extra: a `pulumi up`
environment installs `cdb-infra` without it. Layer: may import the stack and cdb_core, never the
offline engine (contracts in pyproject.toml, checked by tests/test_layers.py)."""
