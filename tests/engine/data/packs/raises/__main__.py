# A pack whose only policy raises: the offline engine must report an error (exit 2), never a pass.
from pulumi_policy import EnforcementLevel, PolicyPack, ResourceValidationPolicy


def explode(args, report_violation):
    raise RuntimeError("policy bug: boom")


PolicyPack(
    name="raises",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=[ResourceValidationPolicy(name="explodes", description="always raises", validate=explode)],
)
