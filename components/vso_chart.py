"""The Vault Secrets Operator's chart, rendered as plain documents from its vendored parts.

There is no Helm here (and a Helm v3 release is one opaque object to every engine), so the few
templates the stack needs are rendered in code, field for field as hashicorp/vault-secrets-operator
v1.4.1 `chart/templates/` writes them with the release named like the component (so the chart's
`fullname` is the release name): deployment.yaml (ServiceAccount, the controller-manager Deployment
with the kube-rbac-proxy and manager containers), role.yaml and cluster-role-binding.yaml,
leader-election-rbac.yaml, metrics-service.yaml and poddisruptionbudget.yaml. Values come from the
vendored chart/values.yaml, the manager's ClusterRole rules from the vendored config/rbac/role.yaml
(which the chart's role.yaml is generated from), the CRDs from the vendored chart/crds/.

The chart's two Helm hooks are replaced, not rendered, because Pulumi has no hook phases and either
Job applied as an ordinary object would run at the wrong time:
- the pre-delete cleanup Job (deployment.yaml, `helm.sh/hook: pre-delete`) runs the manager with
  `--uninstall`, which strips VSO's finalizers from every custom resource so an uninstall does not leave
  them stuck; as a plain Job it would run on the first `pulumi up` and strip them from a live install.
  Instead every VaultConnection, VaultAuth and VaultStaticSecret depends on the operator's Deployment
  (components/vault_delivery.py), so `pulumi destroy` deletes them first, while the operator still runs
  and removes its own finalizers, and only then the operator;
- the CRD-upgrade Job (hook-upgrade-crds.yaml, `pre-upgrade`, with its own ServiceAccount, a ClusterRole
  that may rewrite every CRD, and a binding) re-applies the chart's CRDs on `helm upgrade`; here the CRDs
  are typed resources from the vendored chart/crds/, updated in place by `pulumi up` before the
  Deployment (which waits for them), so no cluster-wide CRD writer runs in the cluster.
Also left out: the optional CSI driver, default connection and auth objects (the stack declares its own
VaultConnection), the ServiceMonitor and the test runner.
"""

from __future__ import annotations

from typing import Any

from components import conventions, vendored

PROJECT = "vault-secrets-operator"
CHART = "vault-secrets-operator"
COMPONENT = "controller-manager"
HEALTH_PORT = 8081
METRICS_PORT = 8443


def values() -> dict[str, Any]:
    chart_values: dict[str, Any] = vendored.vendored(PROJECT, "values.yaml").data()[0]
    return chart_values


def crd_documents() -> list[dict[str, Any]]:
    return [doc for f in vendored.files(PROJECT) if f.name.startswith("secrets.hashicorp.com_") for doc in f.documents()]


def selector_labels(release: str) -> dict[str, str]:
    return {conventions.LABEL_NAME: CHART, conventions.LABEL_INSTANCE: release}


def chart_labels(release: str, version: str) -> dict[str, str]:
    return {"helm.sh/chart": f"{CHART}-{version}", **selector_labels(release), "app.kubernetes.io/version": version}


def _meta(name: str, namespace: str | None, labels: dict[str, str]) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "labels": labels}
    if namespace is not None:
        meta["namespace"] = namespace
    return meta


def manager_args(vals: dict[str, Any]) -> list[str]:
    """The manager's flags as deployment.yaml and _helpers.tpl build them from the values."""
    manager = vals["controller"]["manager"]
    args = ["--health-probe-bind-address=:8081", "--metrics-bind-address=127.0.0.1:8080", "--leader-elect"]
    cache = manager.get("clientCache") or {}
    if cache.get("persistenceModel"):
        args.append(f"--client-cache-persistence-model={cache['persistenceModel']}")
    if cache.get("cacheSize"):
        args.append(f"--client-cache-size={cache['cacheSize']}")
    if cache.get("numLocks") is not None:
        args.append(f"--client-cache-num-locks={cache['numLocks']}")
    if manager.get("maxConcurrentReconciles"):
        args.append(f"--max-concurrent-reconciles={manager['maxConcurrentReconciles']}")
    if (manager.get("globalTransformationOptions") or {}).get("excludeRaw"):
        args.append("--global-transformation-options=exclude-raw")
    if (manager.get("globalVaultAuthOptions") or {}).get("allowDefaultGlobals"):
        args.append("--global-vault-auth-options=allow-default-globals")
    backoff = manager.get("backoffOnSecretSourceError") or {}
    for key, flag in (("initialInterval", "initial-interval"), ("maxInterval", "max-interval"),
                      ("maxElapsedTime", "max-elapsed-time")):
        if backoff.get(key):
            args.append(f"--backoff-{flag}={backoff[key]}")
    for key, flag in (("multiplier", "multiplier"), ("randomizationFactor", "randomization-factor")):
        if backoff.get(key):
            args.append(f"--backoff-{flag}={float(backoff[key]):.2f}")
    logging = manager.get("logging") or {}
    level = {"debug-extended": "5", "trace": "6"}.get(str(logging.get("level")), logging.get("level"))
    for value, flag in ((level, "zap-log-level"), (logging.get("timeEncoding"), "zap-time-encoding"),
                        (logging.get("stacktraceLevel"), "zap-stacktrace-level")):
        if value:
            args.append(f"--{flag}={value}")
    return args


def documents(release: str, namespace: str, replicas: int, manager_resources: dict[str, Any]) -> list[dict[str, Any]]:
    """The chart's objects for one release, before our patches (provenance, security contexts)."""
    vals = values()
    version = vendored.project(PROJECT)["version"]
    ctl = vals["controller"]
    labels = chart_labels(release, version)
    sa = f"{release}-controller-manager"
    component = {"app.kubernetes.io/component": COMPONENT, **labels}
    pod_selector = {"control-plane": COMPONENT, **selector_labels(release)}
    proxy_image, manager_image = ctl["kubeRbacProxy"]["image"], ctl["manager"]["image"]
    sa_subject = [{"kind": "ServiceAccount", "name": sa, "namespace": namespace}]
    manager_rules = vendored.vendored(PROJECT, "role.yaml").documents()[0]["rules"]
    leader_rules = vendored.vendored(PROJECT, "leader_election_role.yaml").documents()[0]["rules"]
    docs: list[dict[str, Any]] = [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _meta(sa, namespace, component)},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
         "metadata": _meta(f"{release}-manager-role", None, {"app.kubernetes.io/component": "rbac",
                                                             "vso.hashicorp.com/role-instance": "manager-role", **labels}),
         "rules": manager_rules},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
         "metadata": _meta(f"{release}-manager-rolebinding", None, component),
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": f"{release}-manager-role"},
         "subjects": sa_subject},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
         "metadata": _meta(f"{release}-leader-election-role", namespace, component), "rules": leader_rules},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
         "metadata": _meta(f"{release}-leader-election-rolebinding", namespace, component),
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": f"{release}-leader-election-role"},
         "subjects": sa_subject},
        {"apiVersion": "v1", "kind": "Service",
         "metadata": _meta(f"{release}-metrics-service", namespace, {"control-plane": COMPONENT, **component}),
         "spec": {"type": vals["metricsService"]["type"], "selector": dict(pod_selector),
                  "ports": vals["metricsService"]["ports"]}},
        {"apiVersion": "apps/v1", "kind": "Deployment",
         "metadata": _meta(sa, namespace, {"control-plane": COMPONENT, **component}),
         "spec": {
             "replicas": replicas,
             "selector": {"matchLabels": dict(pod_selector)},
             "template": {
                 "metadata": {"labels": dict(pod_selector),
                              "annotations": {"kubectl.kubernetes.io/default-container": "manager"}},
                 "spec": {
                     "containers": [
                         {"name": "kube-rbac-proxy",
                          "args": [f"--secure-listen-address=0.0.0.0:{METRICS_PORT}", "--upstream=http://127.0.0.1:8080/",
                                   "--logtostderr=true", "--v=0"],
                          "env": [{"name": "KUBERNETES_CLUSTER_DOMAIN", "value": ctl["kubernetesClusterDomain"]}],
                          "image": f"{proxy_image['repository']}:{proxy_image['tag']}",
                          "imagePullPolicy": proxy_image["pullPolicy"],
                          "ports": [{"containerPort": METRICS_PORT, "name": "https", "protocol": "TCP"}],
                          "resources": ctl["kubeRbacProxy"]["resources"],
                          "securityContext": dict(ctl["securityContext"])},
                         {"name": "manager",
                          "args": manager_args(vals),
                          "command": ["/vault-secrets-operator"],
                          "env": [{"name": "OPERATOR_POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                                  {"name": "OPERATOR_POD_UID", "valueFrom": {"fieldRef": {"fieldPath": "metadata.uid"}}},
                                  {"name": "KUBERNETES_CLUSTER_DOMAIN", "value": ctl["kubernetesClusterDomain"]}],
                          "image": f"{manager_image['repository']}:{manager_image['tag']}",
                          "imagePullPolicy": manager_image["pullPolicy"],
                          "livenessProbe": {"httpGet": {"path": "/healthz", "port": HEALTH_PORT},
                                            "initialDelaySeconds": 15, "periodSeconds": 20},
                          "readinessProbe": {"httpGet": {"path": "/readyz", "port": HEALTH_PORT},
                                             "initialDelaySeconds": 5, "periodSeconds": 10},
                          "resources": manager_resources,
                          "securityContext": dict(ctl["securityContext"]),
                          "volumeMounts": [{"mountPath": "/var/run/podinfo", "name": "podinfo"}]},
                     ],
                     "securityContext": dict(ctl["podSecurityContext"]),
                     "serviceAccountName": sa,
                     "terminationGracePeriodSeconds": ctl["terminationGracePeriodSeconds"],
                     "volumes": [{"name": "podinfo", "downwardAPI": {"items": [
                         {"fieldRef": {"fieldPath": "metadata.name"}, "path": "name"},
                         {"fieldRef": {"fieldPath": "metadata.uid"}, "path": "uid"}]}}],
                 },
             },
         }},
    ]
    if replicas > 1:
        docs.append({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
                     "metadata": _meta(release, namespace, {"app.kubernetes.io/component": COMPONENT,
                                                            "control-plane": COMPONENT, **labels}),
                     "spec": {"maxUnavailable": 1, "selector": {"matchLabels": selector_labels(release)}}})
    return [*crd_documents(), *docs]
