"""Manifests: plain Kubernetes YAML read as engine resources (`cdb check`), and the stack rendered to
the manifests Flux applies (`cdb render`)."""
