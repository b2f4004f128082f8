"""Clause 6, KI-Enforcement: AI containers get no secret and no network path to the vault.

An AI workload is one whose metadata or pod template carries ``cdb-infra.io/workload-class: ai``, or
one that runs known model-serving software (ai_serving.py); running it without the declaration is a
violation of its own, and every AI rule judges it either way.
Secret access has many doors, each closed here: secret env and envFrom, secret/projected/CSI volumes,
Vault injector annotations (resource rule), the service-account token (pod or ServiceAccount, and
long-lived token Secrets), a Vault Kubernetes-auth role bound to the service account, RBAC bindings
that let the service account read Secrets (ai_rbac.py), and any egress the pod's NetworkPolicies leave
open towards the vault zone (stack rules): both as a conservative reading of its egress rules (ipBlocks
compared as networks with the pod and service ranges, vault namespaces from the stack and from pack
config) and as concrete paths to the zone's pods through the pack's NetworkPolicy model (netpol.py).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from pulumi_policy import Severity

from .helpers.access import get, indexed, items, mapping, shown, text
from .helpers.ai_serving import serving_software
from .helpers.conventions import LABEL_NAMESPACE_NAME, LABEL_WORKLOAD_CLASS, WORKLOAD_CLASS_AI
from .helpers.metadata import StackRule, pod_template_rule
from .helpers.objects import KubeObject, memo, objects, of_type, selector_matches, workloads
from .helpers.podspec import PodTemplate, containers
from .helpers.netpol import Cluster, NetpolError, pod_from_template
from .helpers.operators import stack_pods
from .vault_zone import NAMESPACE, NETWORK_POLICY, Zone, block_reaches, is_open_cidr, policy_types, vault_zones

EVERY_ADDRESS = (ipaddress.ip_network("0.0.0.0/0"), ipaddress.ip_network("::/0"))

VAULT_ROLE_TYPE = "vault:kubernetes/authBackendRole:AuthBackendRole"
VAULT_INJECT_PREFIX = "vault.hashicorp.com/"
SERVICE_ACCOUNT = (("core", "ServiceAccount"),)
SECRET = (("core", "Secret"),)


def declared_ai(template: PodTemplate) -> bool:
    return WORKLOAD_CLASS_AI in (get(mapping(template.owner_metadata, "labels"), LABEL_WORKLOAD_CLASS),
                                 get(mapping(template.metadata, "labels"), LABEL_WORKLOAD_CLASS))


def is_ai(template: PodTemplate) -> bool:
    """Declared AI, or running model-serving software (what it does, not what it says)."""
    return declared_ai(template) or serving_software(template) is not None


def check_ai_declared(template: PodTemplate) -> Iterator[str]:
    found = serving_software(template)
    if found is None or declared_ai(template):
        return
    container, software = found
    yield (f"{container.where} runs {software} (model serving) but the workload is not declared AI; label "
           f"metadata and {template.metadata_path}.labels {LABEL_WORKLOAD_CLASS}={WORKLOAD_CLASS_AI} so the AI "
           "isolation rules are applied on purpose")


def _secret_volumes(template: PodTemplate) -> Iterator[str]:
    for path, volume in indexed(template.spec, "volumes", template.path):
        if get(volume, "secret") is not None:
            yield f"{path} is a secret volume"
        if get(volume, "csi") is not None:
            yield f"{path} is a CSI volume (driver {shown(text(mapping(volume, 'csi'), 'driver'))})"
        for index, source in enumerate(items(mapping(volume, "projected"), "sources")):
            for kind in ("secret", "serviceAccountToken"):
                if get(mapping(source), kind) is not None:
                    yield f"{path}.projected.sources[{index}] projects a {kind}"


def check_ai_secrets(template: PodTemplate) -> Iterator[str]:
    if not is_ai(template):
        return
    fix = "AI workloads get no secrets; remove it"
    for container in containers(template):
        for path, env in indexed(container.spec, "env", container.path):
            if get(mapping(env, "valueFrom"), "secretKeyRef") is not None:
                yield f"{container.where}: {path.removeprefix(container.path + '.')} reads a Secret; {fix}"
        for path, source in indexed(container.spec, "envFrom", container.path):
            if get(source, "secretRef") is not None:
                yield f"{container.where}: {path.removeprefix(container.path + '.')} imports a Secret; {fix}"
    for problem in _secret_volumes(template):
        yield f"{problem}; {fix}"
    for key in mapping(template.metadata, "annotations"):
        if isinstance(key, str) and key.startswith(VAULT_INJECT_PREFIX):
            yield f'{template.metadata_path}.annotations["{key}"] asks the Vault injector for secrets; {fix}'


def ai_workloads(resources: Sequence[Any]) -> list[tuple[KubeObject, PodTemplate]]:
    return [found for resource in resources
            if (found := memo(resource, "ai", lambda: _ai(resource))) is not None]


def _ai(resource: Any) -> tuple[KubeObject, PodTemplate] | None:
    return next(((w, t) for w, t in workloads((resource,)) if is_ai(t)), None)


def service_account(template: PodTemplate) -> str:
    return text(template.spec, "serviceAccountName") or text(template.spec, "serviceAccount") or "default"


def check_ai_token(resources: Sequence[Any]) -> Iterator[tuple[str, str | None]]:
    accounts = {(sa.namespace, sa.name): sa for sa in objects(resources, SERVICE_ACCOUNT)}
    token_secrets = [s for s in objects(resources, SECRET)
                     if text(s.props, "type") == "kubernetes.io/service-account-token"]
    for workload, template in ai_workloads(resources):
        name = service_account(template)
        pod_setting = get(template.spec, "automountServiceAccountToken")
        account = accounts.get((workload.namespace, name))
        if pod_setting is True:
            yield f"{workload.label}: {template.path}.automountServiceAccountToken is true; set it to false", workload.urn
        elif pod_setting is None and (account is None or get(account.props, "automountServiceAccountToken") is not False):
            where = "is not in the stack" if account is None else "does not set automountServiceAccountToken: false"
            yield (f"{workload.label}: pod mounts a service-account token (ServiceAccount {name} {where}); set "
                   f"{template.path}.automountServiceAccountToken: false", workload.urn)
        for secret in token_secrets:
            bound = get(secret.annotations, "kubernetes.io/service-account.name")
            if secret.namespace == workload.namespace and bound == name:
                yield (f"{secret.label}: long-lived token for ServiceAccount {name}, used by AI {workload.label}; "
                       "remove it", secret.urn)


def _listed(values: list[Any], wanted: str | None) -> bool:
    return any(v in ("*", wanted) for v in values)


def check_ai_vault_role(resources: Sequence[Any]) -> Iterator[tuple[str, str | None]]:
    roles = list(of_type(resources, VAULT_ROLE_TYPE))
    if not roles:
        return
    for workload, template in ai_workloads(resources):
        name = service_account(template)
        for role in roles:
            props = role.props
            names = items(props, "boundServiceAccountNames")
            namespaces = items(props, "boundServiceAccountNamespaces")
            selector = get(props, "boundServiceAccountNamespaceSelector")
            namespace_ok = _listed(namespaces, workload.namespace) or (not namespaces and selector is not None)
            if _listed(names, name) and namespace_ok:
                role_name = text(props, "roleName") or role.name
                yield (f"Vault role {shown(role_name)} binds ServiceAccount {workload.namespace}/{name} of AI "
                       f"{workload.label}; remove the AI service account from boundServiceAccountNames/Namespaces",
                       role.urn)


def _selects(policy: KubeObject, workload: KubeObject, labels: Mapping[str, Any]) -> bool:
    return policy.namespace == workload.namespace and selector_matches(mapping(policy.spec, "podSelector"), labels)


NETWORK_CONFIG = {
    "podCidrs": {"type": "array", "items": {"type": "string"}, "default": ["10.244.0.0/16"],
                 "description": "The cluster's pod address ranges: an egress ipBlock covering them reaches vault pods"},
    "serviceCidrs": {"type": "array", "items": {"type": "string"}, "default": ["10.96.0.0/12"],
                     "description": "The cluster's service address ranges: an ipBlock covering them reaches the vault Service"},
    "vaultNamespaces": {"type": "array", "items": {"type": "string"}, "default": [],
                        "description": "Namespaces of the vault zone defined outside this program"},
}


def configured_zones(resources: Sequence[Any], config: Mapping[str, Any]) -> dict[str, Zone]:
    """Vault zones of the stack, plus the namespaces pack config names (defined elsewhere)."""
    zones = dict(vault_zones(resources))
    for name in config.get("vaultNamespaces") or ():
        if isinstance(name, str) and name and name not in zones:
            zones[name] = Zone(name, {LABEL_NAMESPACE_NAME: name})
    return zones


def _ranges(config: Mapping[str, Any]) -> list[tuple[str, str]]:
    return [(kind, cidr) for key, kind in (("podCidrs", "pod"), ("serviceCidrs", "service"))
            for cidr in config.get(key) or () if isinstance(cidr, str)]


def _vault_paths(rule: Mapping[str, Any], own_namespace: str | None, zones: dict[str, Zone],
                 ranges: list[tuple[str, str]]) -> Iterator[str]:
    peers = items(rule, "to")
    if not peers:
        yield "has no to, which allows every destination (the vault zone included)"
    for index, peer in enumerate(peers):
        peer = mapping(peer)
        if not peer:
            yield f"to[{index}] is empty, which allows every destination"
            continue
        block = mapping(peer, "ipBlock")
        if block:
            cidr = text(block, "cidr")
            if is_open_cidr(cidr):
                yield f"to[{index}].ipBlock {cidr} reaches every address, the vault zone's pods included"
                continue
            for kind, cluster_range in ranges:
                if block_reaches(block, cluster_range):
                    yield (f"to[{index}].ipBlock {cidr} covers {kind} range {cluster_range}, so it reaches the "
                           "vault zone's pods and services")
                    break
            continue
        selector = get(peer, "namespaceSelector")
        if selector is None:
            if own_namespace in zones and get(peer, "podSelector") is not None:
                yield f"to[{index}] selects pods of the vault zone it runs in"
            continue
        for zone in zones.values():
            if selector_matches(mapping(peer, "namespaceSelector"), zone.labels):
                yield f"to[{index}].namespaceSelector matches vault zone {zone.name}"


def _reachable_vault_pods(resources: Sequence[Any], zones: dict[str, Zone]) -> Iterator[tuple[str, str | None]]:
    """Concrete paths, evaluated with the pack's NetworkPolicy model (rules/helpers/netpol.py): an AI pod that the
    policies at both ends let reach a pod of the vault zone on one of its ports. ipBlocks count as reaching
    pods (any address may be a pod's), so the answer errs towards "reachable"."""
    vault_pods = [p for p in stack_pods(resources) if (p.workload.namespace or "default") in zones]
    if not vault_pods:
        return
    to_pod = {id(p): pod_from_template(p.label, p.workload.namespace or "default", p.template) for p in vault_pods}
    try:
        cluster = Cluster.from_objects(objects(resources, NAMESPACE + NETWORK_POLICY), extra_pods=to_pod.values(),
                                       pod_networks=EVERY_ADDRESS)
    except NetpolError:
        return  # the CIDR is reported by system-flows-admitted; the syntactic check below still runs
    for workload, template in ai_workloads(resources):
        ai = pod_from_template(workload.label, workload.namespace or "default", template)
        for target in to_pod.values():
            for port in target.ports:
                verdict = cluster.reachable(ai, target, port.number, port.protocol)
                if verdict.allowed:
                    yield (f"AI {workload.label} can reach {target.name} port {port.number}/{port.protocol} of the "
                           f"vault zone ({verdict.egress.explain()}; {verdict.ingress.explain()}); close one end",
                           workload.urn)


def check_ai_network(resources: Sequence[Any], config: Mapping[str, Any]) -> Iterator[tuple[str, str | None]]:
    zones = configured_zones(resources, config)
    yield from _reachable_vault_pods(resources, zones)
    ranges = _ranges(config)
    policies = list(objects(resources, NETWORK_POLICY))
    for workload, template in ai_workloads(resources):
        labels = mapping(template.metadata, "labels")
        selecting = [p for p in policies if _selects(p, workload, labels) and "Egress" in policy_types(p)]
        if not selecting:
            yield (f"{workload.label}: no NetworkPolicy restricts its egress, so it can reach the vault zone; "
                   "add a default-deny egress policy for its namespace and allow only what it needs", workload.urn)
            continue
        for policy in selecting:
            for path, rule in indexed(policy.spec, "egress", "spec"):
                for why in _vault_paths(rule, workload.namespace, zones, ranges):
                    yield f"{policy.label}: {path} {why}; AI {workload.label} must have no path to the vault", policy.urn


AI_SECRETS = pod_template_rule(
    name="ai-no-secret-access",
    description="AI workloads read no Secret: no secret env, envFrom, volumes, CSI or Vault injection.",
    clause="6",
    specification="KI-Container ohne Secret-Zugriff.",
    severity=Severity.CRITICAL,
    remediation=(
        f"On workloads labelled {LABEL_WORKLOAD_CLASS}={WORKLOAD_CLASS_AI} remove env valueFrom.secretKeyRef, "
        "envFrom secretRef, secret and CSI volumes, projected secret/serviceAccountToken sources and "
        f"{VAULT_INJECT_PREFIX}* annotations; give the workload what it needs through a non-AI service."
    ),
    tags=("secrets", "ai"),
    check=check_ai_secrets,
)

AI_TOKEN = StackRule(
    name="ai-no-service-account-token",
    description="AI pods mount no service-account token and have no long-lived token Secret.",
    clause="6",
    specification="KI-Container ohne Secret-Zugriff.",
    severity=Severity.HIGH,
    remediation=(
        "Set automountServiceAccountToken: false on the AI pod template (or on its ServiceAccount, defined in "
        "the stack, with the pod leaving it unset), and define no kubernetes.io/service-account-token Secret "
        "for that ServiceAccount."
    ),
    tags=("secrets", "ai"),
    check=check_ai_token,
)

AI_VAULT_ROLE = StackRule(
    name="ai-no-vault-role",
    description="No Vault Kubernetes-auth role is bound to an AI workload's service account.",
    clause="6",
    specification="KI-Container ohne Secret-Zugriff.",
    severity=Severity.CRITICAL,
    remediation=(
        f"Remove the AI workload's ServiceAccount (and \"*\") from boundServiceAccountNames of every {VAULT_ROLE_TYPE} "
        "whose boundServiceAccountNamespaces include its namespace (or \"*\", or a namespace selector)."
    ),
    tags=("secrets", "ai", "vault"),
    check=check_ai_vault_role,
)

AI_NETWORK = StackRule(
    name="ai-no-vault-network-path",
    description="The NetworkPolicies of AI workloads leave no egress path to the vault zone.",
    clause="6",
    specification="Kein Netzwerkpfad zum Tresor.",
    severity=Severity.CRITICAL,
    remediation=(
        "Select every AI pod with an Egress NetworkPolicy (default deny) and allow only specific peers: no rule "
        "without to, no empty peer, no ipBlock of prefix length 0 (0.0.0.0/0, ::/0) or covering the pod or "
        "service ranges (pack config podCidrs/serviceCidrs) unless its except list cuts them out, and no "
        "namespaceSelector that matches a vault zone (labelled in the stack or named in pack config "
        "vaultNamespaces; an empty namespaceSelector matches it)."
    ),
    tags=("network", "ai", "vault-zone"),
    check=check_ai_network,
    config=NETWORK_CONFIG,
)

AI_DECLARED = pod_template_rule(
    name="ai-workload-declared",
    description="A workload running model-serving software is declared as AI.",
    clause="6",
    specification="KI-Container ohne Secret-Zugriff.",
    severity=Severity.HIGH,
    remediation=(
        f"Label workloads that run model-serving software (Ollama, vLLM, TGI, Triton, llama.cpp server, LocalAI, "
        f"SGLang, ...) {LABEL_WORKLOAD_CLASS}={WORKLOAD_CLASS_AI} on the object and its pod template; the AI "
        "isolation rules hold for them either way."
    ),
    tags=("ai",),
    check=check_ai_declared,
)

RULES = [AI_DECLARED, AI_SECRETS, AI_TOKEN, AI_VAULT_ROLE, AI_NETWORK]
