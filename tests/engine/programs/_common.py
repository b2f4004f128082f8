"""What a team's own helper module for compliant objects looks like (copied next to each program)."""

REVISION = "0123456789abcdef0123456789abcdef01234567"


def labels(name, component="web", **extra):
    return {"app.kubernetes.io/managed-by": "pulumi", "app.kubernetes.io/component": component,
            "app.kubernetes.io/name": name, **extra}


def meta(name, namespace="apps", component="web", **extra_labels):
    return {"name": name, "namespace": namespace, "labels": labels(name, component, **extra_labels),
            "annotations": {"cdb-infra.io/git-revision": REVISION}}


def container(name="web", image="registry.example/web:1.4.2", **extra):
    return {
        "name": name, "image": image, "ports": [{"containerPort": 8080}],
        "livenessProbe": {"httpGet": {"path": "/healthz", "port": 8080}},
        "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080}},
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "500m", "memory": "256Mi"}},
        "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True, "runAsNonRoot": True,
                            "capabilities": {"drop": ["ALL"]}},
        **extra,
    }


def pod_spec(*containers, **extra):
    return {"automountServiceAccountToken": False,
            "securityContext": {"runAsNonRoot": True, "runAsUser": 10001, "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": list(containers) or [container()], **extra}


def deployment_spec(name, workload_class="service", *containers, replicas=2):
    pod_labels = labels(name, **{"cdb-infra.io/workload-class": workload_class})
    return {"replicas": replicas, "selector": {"matchLabels": {"app.kubernetes.io/name": name}},
            "template": {"metadata": {"labels": pod_labels}, "spec": pod_spec(*containers)}}
