"""The same semantics on plain manifests through `cdb check` (pack over its own protocol): rendered Helm
releases, AI workloads with RBAC paths, audit streams, rulesets are Pulumi-only so not here."""

from __future__ import annotations

import json

from cdb_cli import main

BAD = """\
apiVersion: v1
kind: Namespace
metadata: {name: ai}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: llm, namespace: ai}
spec:
  selector: {matchLabels: {app: llm}}
  template:
    metadata: {labels: {app: llm}}
    spec:
      serviceAccountName: llm
      containers:
        - name: vllm
          image: vllm/vllm-openai:v0.8.4
          args: ["--model", "meta-llama/Llama-3.1-8B-Instruct", "--max-model-len", "8192"]
          env:
            - {name: MAX_TOKENS, value: "2048"}
            - {name: HUGGING_FACE_HUB_TOKEN, value: hf_aBcD1234aBcD1234aBcD1234aBcD1234aB}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: llm-admin}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: admin}
subjects: [{kind: ServiceAccount, name: llm, namespace: ai}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: llm-egress, namespace: ai}
spec:
  podSelector: {matchLabels: {app: llm}}
  policyTypes: [Egress]
  egress:
    - to: [{ipBlock: {cidr: "::0/0"}}]
---
apiVersion: jetstream.nats.io/v1beta2
kind: Stream
metadata: {name: audit, namespace: bus}
spec:
  name: AUDIT
  subjects: ["audit.v1.>"]
  storage: file
  replicas: 3
  denyDelete: true
  denyPurge: true
  maxBytes: 10737418240
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: cache, namespace: bus}
spec:
  interval: 5m
  driftDetection: {mode: enabled}
  chart: {spec: {chart: redis, version: 20.11.4, sourceRef: {kind: HelmRepository, name: bitnami}}}
  values:
    auth: {password: hunter2hunter2}
    master: {persistence: {enabled: true}}
"""


def test_a_bad_manifest_set_fails_every_new_rule_with_its_field(tmp_path, capsys):
    path = tmp_path / "bad.yaml"
    path.write_text(BAD)
    assert main(["check", str(path), "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    found: dict[str, list[str]] = {}
    for violation in report["violations"]:
        found.setdefault(violation["policy"], []).append(violation["message"])
    assert found["ai-workload-declared"][0].startswith('spec.template.spec.containers[0] (name "vllm") runs vLLM')
    assert any("(HUGGING_FACE_HUB_TOKEN) has a literal value" in m for m in found["no-plaintext-secrets"])
    assert not any("MAX_TOKENS" in m for m in found["no-plaintext-secrets"])
    assert any("ClusterRoleBinding llm-admin: binds ServiceAccount ai/llm" in m for m in found["ai-no-secret-rbac"])
    assert any("ipBlock ::0/0 reaches every address" in m for m in found["ai-no-vault-network-path"])
    assert any("audit stream capped (maxBytes 10737418240)" in m for m in found["jetstream-stream-durable"])
    assert any(m.startswith("spec.values.auth.password has a literal value") for m in
               found["helm-values-no-literal-secrets"])
    assert any("turns persistence on in Redis chart redis" in m for m in found["helm-values-no-persistence"])
    assert any("readOnlyRootFilesystem is unset" in m for m in found["k8s-read-only-root-filesystem"])


GOOD = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: llm
  namespace: ai
  labels: {cdb-infra.io/workload-class: ai}
spec:
  selector: {matchLabels: {app: llm}}
  template:
    metadata: {labels: {app: llm, cdb-infra.io/workload-class: ai}}
    spec:
      serviceAccountName: llm
      automountServiceAccountToken: false
      securityContext: {runAsNonRoot: true, runAsUser: 10001, seccompProfile: {type: RuntimeDefault}}
      containers:
        - name: vllm
          image: vllm/vllm-openai:v0.8.4
          env: [{name: MAX_TOKENS, value: "2048"}, {name: TOKENIZER_MODE, value: auto}]
          securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: llm-egress, namespace: ai}
spec:
  podSelector: {matchLabels: {app: llm}}
  policyTypes: [Egress]
  egress:
    - to: [{ipBlock: {cidr: 203.0.113.0/24}}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: llm-view, namespace: ai}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
subjects: [{kind: ServiceAccount, name: llm}]
"""

MINE = ("ai-workload-declared", "no-plaintext-secrets", "ai-no-secret-rbac", "ai-no-vault-network-path",
        "k8s-read-only-root-filesystem", "helm-values-no-literal-secrets", "helm-values-no-persistence",
        "ai-no-secret-access", "ai-no-service-account-token")


def test_a_compliant_ai_manifest_set_passes_the_new_rules(tmp_path, capsys):
    path = tmp_path / "good.yaml"
    path.write_text(GOOD)
    main(["check", str(path), "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    assert [v for v in report["violations"] if v["policy"] in MINE] == []
