"""The secure defaults, pinned: weakening one must show up as a failing test and a reviewed change."""

import ast
import inspect

from components import defaults


def test_secure_defaults_are_pinned() -> None:
    assert defaults.container_security_context() == {
        "runAsNonRoot": True,
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "privileged": False,
        "capabilities": {"drop": ["ALL"]},
    }
    assert defaults.pod_security_context() == {
        "runAsNonRoot": True,
        "runAsUser": 65532,
        "runAsGroup": 65532,
        "fsGroup": 65532,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    assert defaults.AUTOMOUNT_SERVICE_ACCOUNT_TOKEN is False
    assert defaults.ENABLE_SERVICE_LINKS is False
    assert defaults.DEFAULT_REPLICAS == 2
    assert defaults.REVISION_HISTORY_LIMIT == 5
    assert defaults.TERMINATION_GRACE_PERIOD_SECONDS == 30
    assert defaults.IMAGE_PULL_POLICY == "IfNotPresent"
    assert (defaults.PORT_NAME, defaults.WRITABLE_PATHS, defaults.EMPTY_DIR_SIZE_LIMIT) == ("http", ("/tmp",), "64Mi")
    assert (defaults.CONFIG_FILE_MODE, defaults.SECRET_FILE_MODE) == (0o444, 0o440)
    assert (
        defaults.PROBE_INITIAL_DELAY_SECONDS,
        defaults.PROBE_PERIOD_SECONDS,
        defaults.PROBE_TIMEOUT_SECONDS,
        defaults.PROBE_FAILURE_THRESHOLD,
        defaults.PROBE_SUCCESS_THRESHOLD,
    ) == (0, 10, 2, 3, 1)
    assert defaults.psa_labels() == {
        "pod-security.kubernetes.io/enforce": "restricted",
        "pod-security.kubernetes.io/enforce-version": "latest",
        "pod-security.kubernetes.io/audit": "restricted",
        "pod-security.kubernetes.io/audit-version": "latest",
        "pod-security.kubernetes.io/warn": "restricted",
        "pod-security.kubernetes.io/warn-version": "latest",
    }
    assert defaults.rolling_update() == {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0}}
    assert defaults.pdb_spec(2, {"a": "b"}) == {
        "selector": {"matchLabels": {"a": "b"}},
        "unhealthyPodEvictionPolicy": "AlwaysAllow",
        "minAvailable": 1,
    }
    assert defaults.pdb_spec(1, {"a": "b"})["maxUnavailable"] == 1 and "minAvailable" not in defaults.pdb_spec(1, {})
    assert defaults.default_deny_spec() == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"], "ingress": [], "egress": []}
    assert defaults.dns_egress_rule() == {
        "to": [
            {
                "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
            }
        ],
        "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
    }
    assert defaults.quota_hard() == {
        "requests.cpu": "8",
        "requests.memory": "16Gi",
        "limits.cpu": "16",
        "limits.memory": "32Gi",
        "pods": "50",
        "services.loadbalancers": "0",
        "services.nodeports": "0",
        "persistentvolumeclaims": "0",
    }
    assert (
        defaults.CONTAINER_CPU_REQUEST,
        defaults.CONTAINER_MEMORY_REQUEST,
        defaults.CONTAINER_CPU_LIMIT,
        defaults.CONTAINER_MEMORY_LIMIT,
    ) == ("100m", "128Mi", "500m", "512Mi")
    assert (defaults.DNS_NAMESPACE, defaults.DNS_POD_LABELS) == ("kube-system", {"k8s-app": "kube-dns"})


def test_default_dicts_are_fresh_copies_that_callers_cannot_corrupt() -> None:
    first = defaults.container_security_context()
    first["capabilities"]["drop"].clear()
    first["privileged"] = True
    assert defaults.container_security_context()["capabilities"] == {"drop": ["ALL"]}
    defaults.quota_hard()["pods"] = "9999"
    assert defaults.QUOTA_HARD["pods"] == "50"


def test_every_default_is_named_by_a_docstring() -> None:
    tree = ast.parse(inspect.getsource(defaults))
    body = tree.body
    undocumented = []
    for index, node in enumerate(body):
        if isinstance(node, ast.AnnAssign | ast.Assign):
            target = node.target if isinstance(node, ast.AnnAssign) else node.targets[0]
            following = body[index + 1] if index + 1 < len(body) else None
            documented = isinstance(following, ast.Expr) and isinstance(following.value, ast.Constant)
            if isinstance(target, ast.Name) and target.id.isupper() and not documented:
                undocumented.append(target.id)
        elif isinstance(node, ast.FunctionDef) and not ast.get_docstring(node):
            undocumented.append(node.name)
    assert undocumented == []
