"""The cdb-infra stack: settings from Pulumi config, the composition in cdb_stack.stack."""

import pulumi

from cdb_stack.errors import SettingsError
from cdb_stack.settings import load_settings
from cdb_stack.stack import build_stack, plan_stack

try:
    settings = load_settings()
    plan = plan_stack(settings, pulumi.get_project(), pulumi.get_stack(), source=f"Pulumi.{pulumi.get_stack()}.yaml")
except SettingsError as exc:
    # RunError: the Pulumi CLI prints the one line without a traceback; `cdb preview` does the same.
    raise pulumi.RunError(str(exc)) from None

for key, value in build_stack(plan).items():
    pulumi.export(key, value)
