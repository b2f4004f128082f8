"""Foundations every cdb layer shares: the error type, YAML limits, canonical JSON, the Pulumi project
on disk (Pulumi.yaml and Pulumi.<stack>.yaml), the JSON-Schema compatibility comparer and atomic
file writes.

Layer: imports nothing local (contracts in pyproject.toml, checked by tests/test_layers.py)."""
