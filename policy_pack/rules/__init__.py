"""The pack's explicit registry: every rule module is listed here, nothing is discovered at import.

Importable as ``rules`` (the pack directory is sys.path[0] under the Pulumi CLI) and as
``policy_pack.rules`` (tests, cdb_stack); modules inside use relative imports only.
To add a clause: write a module exporting ``RULES`` and add it to ``RULE_MODULES``.
Resource rules become ResourceValidationPolicies, stack rules (graph) StackValidationPolicies.
The readers and parsers the rules share live in the sub-package ``helpers``, which exports no RULES;
the layout is the separation (tests/policy_pack/test_registry.py).
"""

from __future__ import annotations

from pulumi_policy import Policy

from . import (
    admission, ai_isolation, ai_rbac, backbone_audit, breakglass, capacity, connectivity, references, event_backbone,
    gitops, governance, helm_values, k8s_baseline, k8s_hardening, k8s_images, k8s_readiness, k8s_storage, provenance,
    rbac, secrets, vault_zone,
)
from .helpers.metadata import Rule, StackRule, build_policy

PACK_NAME = "cdb-infra-policy"
PACK_DESCRIPTION = (
    "CDB_INFRA_POLICY 1.0.0 enforced at preview time. Every policy is mandatory; the pack refuses to be "
    "weakened."
)

RULE_MODULES = (
    k8s_readiness,
    k8s_storage,
    k8s_baseline,
    k8s_hardening,
    k8s_images,
    provenance,  # 2.1, 2.2
    rbac,  # 2.2
    gitops,  # 2.3
    breakglass,  # 2.4
    event_backbone,  # 4
    backbone_audit,  # 4
    secrets,  # 6
    helm_values,  # 5, 6
    vault_zone,  # 6
    ai_isolation,  # 6
    ai_rbac,  # 6
    governance,  # 7
    connectivity,  # 5, whole system: declared flows admitted at both ends
    capacity,  # 5, whole system: pods fit the ResourceQuota
    admission,  # 5, whole system: pods meet the namespace's Pod Security level
    references,  # 2.1, whole system: references resolve, no cycle of waits
)

RULES: list[Rule | StackRule] = [rule for module in RULE_MODULES for rule in module.RULES]
POLICIES: list[Policy] = [build_policy(rule) for rule in RULES]
