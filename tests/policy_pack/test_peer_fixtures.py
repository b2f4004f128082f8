"""Clause 5 on the manifests peers' scanners ship as bad examples (kube-linter, checkov, kubescape style):
root users, runAsNonRoot unset at both levels, writable root filesystems, and the kinds they use."""

from __future__ import annotations

import pytest
import yaml

from .harness import analyze

NON_ROOT = "k8s-pss-run-as-non-root"
READ_ONLY = "k8s-read-only-root-filesystem"


def type_token(manifest: dict) -> str:
    group_version = manifest["apiVersion"]
    if "/" not in group_version:
        group_version = f"core/{group_version}"
    return f"kubernetes:{group_version}:{manifest['kind']}"


def judge(text: str):
    manifest = yaml.safe_load(text)
    return analyze(type_token(manifest), manifest)


# kube-linter's run-as-non-root / no-read-only-root-fs fixtures: a bare Deployment.
KUBE_LINTER_DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: dont-fire, namespace: default}
spec:
  selector: {matchLabels: {app: app}}
  template:
    metadata: {labels: {app: app}}
    spec:
      containers:
        - name: app
          image: registry.example/app:1.0.0
"""

# checkov CKV_K8S_23 / CKV_K8S_40 style: root at pod level, override left out.
CHECKOV_POD_ROOT = """
apiVersion: v1
kind: Pod
metadata: {name: root-pod}
spec:
  securityContext: {runAsUser: 0}
  containers:
    - name: main
      image: registry.example/app:1.0.0
      securityContext: {readOnlyRootFilesystem: true}
"""

# kubescape C-0013 style: container runAsUser 0 although the pod says non-root.
KUBESCAPE_CONTAINER_ROOT = """
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  serviceName: db
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      securityContext: {runAsNonRoot: true}
      containers:
        - name: db
          image: registry.example/db:1.0.0
          securityContext: {runAsUser: 0, readOnlyRootFilesystem: false}
"""

# Root in an init container of a CronJob, writable filesystem on the main container.
CRONJOB_INIT_ROOT = """
apiVersion: batch/v1
kind: CronJob
metadata: {name: report}
spec:
  schedule: "0 * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          securityContext: {runAsNonRoot: true, runAsUser: 1000}
          initContainers:
            - name: chown
              image: registry.example/busybox:1.36
              securityContext: {runAsUser: 0, readOnlyRootFilesystem: true}
          containers:
            - name: report
              image: registry.example/report:1.0.0
"""

# Argo Rollout copied from the upstream example with root left in.
ROLLOUT_ROOT = """
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: canary}
spec:
  selector: {matchLabels: {app: canary}}
  template:
    metadata: {labels: {app: canary}}
    spec:
      containers:
        - name: canary
          image: argoproj/rollouts-demo:blue
          securityContext: {runAsUser: 0}
"""


@pytest.mark.parametrize(("manifest", "fragments"), [
    (KUBE_LINTER_DEPLOYMENT, ['containers[0] (name "app"): runAsNonRoot is not set here nor in '
                              "spec.template.spec.securityContext"]),
    (CHECKOV_POD_ROOT, ["spec.securityContext.runAsUser is 0 (root)"]),
    (KUBESCAPE_CONTAINER_ROOT, ['containers[0] (name "db"): securityContext.runAsUser is 0 (root)']),
    (CRONJOB_INIT_ROOT, ['initContainers[0] (name "chown"): securityContext.runAsUser is 0 (root)']),
    (ROLLOUT_ROOT, ['spec.template.spec.containers[0] (name "canary"): runAsNonRoot is not set',
                    'containers[0] (name "canary"): securityContext.runAsUser is 0 (root)']),
])
def test_root_users_in_peers_fixtures_are_caught(manifest, fragments):
    messages = judge(manifest).messages(NON_ROOT)
    for fragment in fragments:
        assert any(fragment in m for m in messages), (fragment, messages)


@pytest.mark.parametrize(("manifest", "fragment"), [
    (KUBE_LINTER_DEPLOYMENT, 'containers[0] (name "app"): securityContext.readOnlyRootFilesystem is unset'),
    (KUBESCAPE_CONTAINER_ROOT, 'containers[0] (name "db"): securityContext.readOnlyRootFilesystem is false'),
    (CRONJOB_INIT_ROOT, 'containers[0] (name "report"): securityContext.readOnlyRootFilesystem is unset'),
    (ROLLOUT_ROOT, 'containers[0] (name "canary"): securityContext.readOnlyRootFilesystem is unset'),
])
def test_writable_root_filesystems_in_peers_fixtures_are_caught(manifest, fragment):
    messages = judge(manifest).messages(READ_ONLY)
    assert any(fragment in m for m in messages), messages


def test_the_init_container_with_a_read_only_root_passes_that_rule():
    messages = judge(CRONJOB_INIT_ROOT).messages(READ_ONLY)
    assert not any("chown" in m for m in messages)


HARDENED = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: hardened}
spec:
  selector: {matchLabels: {app: hardened}}
  template:
    metadata: {labels: {app: hardened}}
    spec:
      securityContext: {runAsNonRoot: true, runAsUser: 10001, seccompProfile: {type: RuntimeDefault}}
      containers:
        - name: app
          image: registry.example/app:1.0.0
          securityContext:
            readOnlyRootFilesystem: true
            allowPrivilegeEscalation: false
            capabilities: {drop: [ALL]}
"""

WINDOWS = """
apiVersion: v1
kind: Pod
metadata: {name: win}
spec:
  os: {name: windows}
  securityContext: {runAsNonRoot: true, windowsOptions: {runAsUserName: ContainerUser}}
  containers:
    - name: iis
      image: mcr.microsoft.com/windows/servercore/iis:windowsservercore-ltsc2022
"""


@pytest.mark.parametrize("manifest", [HARDENED, WINDOWS])
def test_hardened_and_windows_pods_pass_clause_5_user_and_filesystem_rules(manifest):
    outcome = judge(manifest)
    assert outcome.messages(NON_ROOT) == [] and outcome.messages(READ_ONLY) == []
