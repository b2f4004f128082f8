# A compliant manifest through yaml.ConfigFile (v1): every object is judged and the verdict is complete.
# expect: exit 0
# expect: objects 2
import pulumi_kubernetes as k8s

k8s.yaml.ConfigFile("good", file="manifests/good-app.yaml")
