"""The offline engine: runs a Pulumi program under the mock runtime, or reads plain manifests,
and asks the policy pack for its verdict over the real Analyzer gRPC protocol.

Split in four: preview (the program under the mock runtime), judge (the policy pack's verdict),
manifests (plain YAML in, rendered YAML out) and reports (text, JSON, SARIF, Markdown, HTML, diffs);
`run` ties them together for `cdb preview` and `cdb check`. Layer: may import the stack's settings
module names and cdb_core, never the stack's parts or the operational tools (contracts in pyproject.toml)."""
