# yaml.ConfigFile (v1) expands in the program through the provider's decode invoke; a privileged
# container in the file fails the preview, and the ConfigFile component itself is not judged as an object.
# expect: exit 1
# expect: violation k8s-pss-no-privilege kubernetes:apps/v1:Deployment legacy-app-apps/legacy
import pulumi_kubernetes as k8s

k8s.yaml.ConfigFile("legacy", file="manifests/legacy-app.yaml", resource_prefix="legacy-app")
