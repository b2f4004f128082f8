"""The offline engine: runs a Pulumi program under the mock runtime, or reads plain manifests,
and asks the policy pack for its verdict over the real Analyzer gRPC protocol."""
