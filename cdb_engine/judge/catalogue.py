"""The policy catalogue: every policy of the pack, and every sentence of CDB_INFRA_POLICY 1.0.0 (clauses
2.1 to 8) with what enforces it: policies of the pack, named process steps (pipelines, audit), or both.

The sentence map is explicit on purpose: a sentence nobody maps, or a policy no sentence names, fails
the catalogue test, so the policy text and the pack cannot drift apart silently.
docs/policies.md is generated from here (`cdb policies --format markdown -o docs/policies.md`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from policy_pack.rules import RULES

# (clause, German sentence, policies enforcing it, process steps meeting it)
SENTENCES: tuple[tuple[str, str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("2.1", "Jede Infrastrukturressource ist als Code definiert.", ("k8s-provenance-metadata",
                                                                   "system-references-resolve"), ()),
    ("2.1", "Keine manuelle Erstellung persistenter Infrastruktur.", ("k8s-stateless-workloads",),
     ("drift schedule: `pulumi preview --refresh --expect-no-changes`, findings recorded by `cdb audit drift`",)),
    ("2.1", "CI blockiert Änderungen ohne IaC-Artefakte.", (),
     ("`cdb render --check` in the PR workflow (rendered GitOps manifests equal what the code renders)",)),
    ("2.1", "Drift-Checks vergleichen Runtime-Zustand mit Git-Definition.", (),
     ("drift schedule: `pulumi preview --refresh --expect-no-changes` and `cdb audit drift`",)),
    ("2.2", "Git ist die einzige autoritative Quelle.", ("gitops-no-reconcile-opt-out",),
     ("`cdb render --check` in the PR workflow",)),
    ("2.2", "Keine direkten Schreibrechte auf Runtime-Systeme.", ("k8s-no-human-write-rbac",), ()),
    ("2.2", "Änderungen außerhalb von Git werden bei Reconcile überschrieben.",
     ("gitops-no-reconcile-opt-out", "flux-helmrelease-drift-detection"), ()),
    ("2.2", "Audit-Log aller Merges ist Pflicht.", (), ("`cdb audit merge` in the merge workflow (WORM bucket)",)),
    ("2.3", "GitOps-Reconcile ist immer aktiv.",
     ("flux-kustomization-prune", "flux-helmrelease-drift-detection", "gitops-no-reconcile-opt-out"), ()),
    ("2.3", "Tooling: FluxCD oder funktional gleichwertiges OSS.", (),
     ("the reference stack installs Flux (Flux Operator and FluxInstance component)",)),
    ("2.3", "Reconcile-Intervall: ≤ 5 Minuten.", ("flux-reconcile-interval",), ()),
    ("2.3", "Drift-Events werden geloggt.", ("flux-drift-events-persisted",), ()),
    ("2.3", "Jede Korrektur ist nachvollziehbar.", ("flux-drift-events-persisted",),
     ("`cdb audit drift` from the drift schedule",)),
    ("2.4", "Zulässig nur bei Incident-Response und Sicherheitsnotfällen.", ("break-glass-marker-complete",), ()),
    ("2.4", "Änderung erzeugt Pflicht-Ticket.", ("break-glass-marker-complete",), ()),
    ("2.4", "Änderung wird sofort nachträglich als IaC codiert.", ("break-glass-marker-complete",),
     ("`cdb audit breakglass` records the change; the marker's expiry forces the code change",)),
    ("2.4", "Reconcile erzwingt Rückführung in Soll-Zustand.",
     ("gitops-no-reconcile-opt-out", "flux-helmrelease-drift-detection"), ()),
    ("2.4", "Zeit, Grund, Verantwortlicher sind verpflichtend zu dokumentieren.", ("break-glass-marker-complete",),
     ("`cdb audit breakglass`",)),
    ("3", "Provisioning: Terraform oder OpenTofu.", (),
     ("Pulumi provisions the stack (design decision, equivalent IaC)",)),
    ("3", "GitOps: FluxCD (oder gleichwertig).", (), ("reference stack: Flux component",)),
    ("3", "Config: Ansible (optional, deklarativ).", (), ("not used: configuration is declarative Pulumi code",)),
    ("3", "Observability: Prometheus, Grafana, Loki, OpenTelemetry.", (), ("reference stack: observability components",)),
    ("3", "Secrets: Vault oder Sealed-Secrets.", ("k8s-no-literal-secret-data",), ("reference stack: Vault component",)),
    ("3", "Storage: MinIO (S3-kompatibel).", (), ("reference stack: MinIO component",)),
    ("3", "Messaging: NATS JetStream (primär), Kafka (sekundär).", (), ("reference stack: NATS and Kafka components",)),
    ("4.1", "Redis nur als temporärer Transport.", ("redis-transport-only", "event-backbone-migration-phase"), ()),
    ("4.1", "Keine Redis-Abhängigkeit für Persistenz oder Audit.", ("redis-transport-only", "redis-not-an-audit-sink"),
     ()),
    ("4.2", "Persistenter Event-Bus (NATS JetStream oder Kafka).", ("jetstream-stream-durable",
                                                                   "jetstream-stream-replicas",
                                                                   "kafka-audit-topic-replicated"), ()),
    ("4.2", "Replay-fähig, versionierte Schemas.", ("jetstream-stream-durable",),
     ("`cdb events schemas` checks the versioned event schemas in the PR workflow",)),
    ("4.3", "Dual-Write-Phase: Redis + Persistenter Bus.", ("event-backbone-migration-phase",
                                                           "jetstream-duplicate-window"), ()),
    ("4.3", "Abnahme durch Replay-Vergleich.", (), ("`cdb events compare` (replay comparison) before the phase moves on",)),
    ("4.3", "Redis-Only-Betrieb ist zeitlich begrenzt und dokumentiert.", ("event-backbone-migration-phase",), ()),
    ("5", "Stateless Services", ("k8s-stateless-workloads", "k8s-read-only-root-filesystem",
                                 "helm-values-no-persistence"), ()),
    ("5", "Config nur via ENV/ConfigMaps/Secrets", ("k8s-allowed-volume-kinds",), ()),
    ("5", "Health-, Readiness-, Liveness-Endpunkte", ("k8s-probes-required",), ()),
    ("5", "Resource Requests & Limits", ("k8s-resources-required", "system-quota-fits"), ()),
    ("5", "Keine lokalen Pfadabhängigkeiten", ("k8s-allowed-volume-kinds", "k8s-no-node-pinning",
                                               "k8s-read-only-root-filesystem"), ()),
    ("5", "CI prüft Container-Images auf diese Kriterien.", ("k8s-image-pinned",),
     ("`cdb preview` / `cdb check` with the pack in the PR workflow",)),
    ("5", "Nicht-konforme Services sind nicht mergefähig.",
     ("k8s-pss-host-isolation", "k8s-pss-no-privilege", "k8s-pss-run-as-non-root", "k8s-pss-seccomp",
      "k8s-pss-kernel-hardening", "system-flows-admitted", "system-pod-security-admission"),
     ("required status check policy-preview (github-repository-governed)",)),
    ("6", "Keine Secrets im Repo (Scan + CI-Block).", ("no-plaintext-secrets", "helm-values-no-literal-secrets",
                                                      "vault-secret-no-literal-data"), ("`cdb scan` in the PR workflow",)),
    ("6", "Secrets nur via Secret-Manager.", ("k8s-no-literal-secret-data", "vault-secret-no-literal-data"), ()),
    ("6", "Tresor-Zone ist nicht mountbar.", ("vault-zone-vault-only",), ()),
    ("6", "KI-Container ohne Secret-Zugriff.", ("ai-workload-declared", "ai-no-secret-access",
                                                "ai-no-service-account-token", "ai-no-vault-role",
                                                "ai-no-secret-rbac"), ()),
    ("6", "Kein Netzwerkpfad zum Tresor.", ("ai-no-vault-network-path", "vault-zone-ingress-allow-list"), ()),
    ("7", "Plan (IaC-Diff).", (), ("`cdb preview` (and `pulumi preview --policy-pack`) in the PR workflow",)),
    ("7", "PR.", ("github-repository-governed",), ()),
    ("7", "Automatisierte Tests.", ("github-repository-governed",), ("required status check tests",)),
    ("7", "Reconcile-Rollout.", ("flux-reconcile-interval",), ("merge workflow: `cdb render`, Flux reconciles",)),
    ("7", "Post-Check.", (), ("`cdb postcheck` after the rollout",)),
    ("7", "Branch-Protection.", ("github-repository-governed",), ()),
    ("7", "CI-Gates.", ("github-repository-governed",), ()),
    ("7", "Kein Auto-Merge.", ("github-repository-governed",), ()),
    ("8", "Diese Infrastruktur-Policy ist kanonisch.", (),
     ("every policy names CDB_INFRA_POLICY 1.0.0 and its clause; the pack is mandatory as a whole",)),
    ("8", "Abweichungen gelten als Governance-Bruch.", (),
     ("every policy is mandatory: a violation fails `pulumi preview` and `cdb preview` (exit 1)",)),
    ("8", "Keine Ausnahmen.", (),
     ("the pack refuses any policy config that lowers a policy (Configure, policy_pack/rules/helpers/no_exceptions.py)",)),
)


@dataclass(frozen=True)
class Entry:
    name: str
    clause: str
    kind: str
    severity: str
    description: str
    specification: str
    remediation: str
    url: str
    tags: tuple[str, ...]


def entries() -> list[Entry]:
    return [Entry(rule.name, rule.clause, rule.kind, rule.severity.value, rule.description, rule.specification,
                  rule.remediation, rule.url, tuple(rule.tags)) for rule in RULES]


def _sort_key(entry: Entry) -> tuple:
    return tuple(int(part) for part in entry.clause.split(".")), entry.name


def sorted_entries() -> list[Entry]:
    """Entries in clause order, then by name (the order of every rendering)."""
    return sorted(entries(), key=_sort_key)


def render_json() -> str:
    return json.dumps({
        "framework": {"name": "CDB_INFRA_POLICY", "version": "1.0.0"},
        "policies": [entry.__dict__ | {"tags": list(entry.tags)} for entry in entries()],
        "sentences": [{"clause": c, "sentence": s, "policies": list(p), "process": list(q)}
                      for c, s, p, q in SENTENCES],
    }, ensure_ascii=False, indent=2)


def render_text() -> str:
    lines = []
    for entry in sorted(entries(), key=_sort_key):
        lines += [f"{entry.name}  [clause {entry.clause}, {entry.severity}, {entry.kind}]",
                  f"  {entry.description}", f"  fix: {entry.remediation}", ""]
    lines.append("Clause by clause:")
    for clause, sentence, policies, process in SENTENCES:
        lines.append(f"  {clause:<4} {sentence}")
        lines += [f"         policy: {name}" for name in policies]
        lines += [f"         process: {step}" for step in process]
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown() -> str:
    out = ["# Policy catalogue", "",
           "Generated by `cdb policies --format markdown -o docs/policies.md`; do not edit by hand (a test "
           "fails when this file is stale).", "",
           "Every policy is mandatory (CDB_INFRA_POLICY 1.0.0, clause 8: no exceptions).", "",
           "## Clause by clause", "", "| Clause | Sentence | Enforced by policy | Met by process |",
           "|---|---|---|---|"]
    for clause, sentence, policies, process in SENTENCES:
        linked = ", ".join(f"[{name}](#{name})" for name in policies) or "-"
        out.append(f"| {clause} | {_cell(sentence)} | {linked} | {_cell('; '.join(process)) or '-'} |")
    out += ["", "## Policies", ""]
    for entry in sorted(entries(), key=_sort_key):
        out += [f'<a id="{entry.name}"></a>', "", f"### {entry.name}", "",
                f"{entry.description}", "",
                f"- Clause: {entry.clause} (\"{entry.specification}\")",
                f"- Severity: {entry.severity}",
                f"- Scope: {'the whole stack graph' if entry.kind == 'stack' else 'each resource'}",
                f"- Tags: {', '.join(entry.tags)}", "",
                f"Remediation: {entry.remediation}", ""]
    return "\n".join(out).rstrip("\n") + "\n"


RENDERERS = {"text": render_text, "json": render_json, "markdown": render_markdown}
