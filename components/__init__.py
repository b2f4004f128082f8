"""Reusable, stack-agnostic Pulumi components that are compliant with CDB_INFRA_POLICY by construction.

Public API: `zone.Zone`/`ZoneArgs`, `service.StatelessService`/`StatelessServiceArgs`, the typed intent in
`types`, `config`, `network` and `provenance`, the secure defaults in `defaults`, the shared label keys
in `conventions`, and `errors.ComponentArgsError`. This package never imports `cdb_stack` or `policy_pack`;
submodules are imported explicitly so reading `conventions` does not load pulumi_kubernetes.
"""
