"""Judge: the policy pack asked for its verdict over the real Analyzer gRPC protocol (in process or in
a separate pack process), its configuration, and the catalogue of its rules."""
