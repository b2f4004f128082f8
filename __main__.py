"""The cdb-infra stack: settings from Pulumi config, the composition in cdb_stack.stack."""

import pulumi

from cdb_core.errors import CdbError, SettingsError
from cdb_stack.images import pins
from cdb_stack.settings import load_settings
from cdb_stack.stack import build_stack, plan_stack

try:
    settings = load_settings()
    plan = plan_stack(settings, pulumi.get_project(), pulumi.get_stack(), source=f"Pulumi.{pulumi.get_stack()}.yaml")
    # Prod images run at the digests images.lock recorded when they were checked (clause 5).
    pins.install(pulumi.get_stack(), settings.environment.value, pulumi.Config("cdb-images").get("lock"))
except (SettingsError, CdbError) as exc:
    # RunError: the Pulumi CLI prints the one line without a traceback; `cdb preview` does the same.
    raise pulumi.RunError(str(exc)) from None

for key, value in build_stack(plan).items():
    pulumi.export(key, value)
