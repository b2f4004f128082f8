"""Release gates: container images checked against clause 5 and locked by digest (images), and the
multi-language package's schema as a versioned contract (package_schema).

Layer: above the engine and the operational tools (it renders the stack and reuses the secret scan)."""
