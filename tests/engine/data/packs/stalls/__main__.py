# A pack whose policy never returns: the engine's call deadline must end the run with an error.
import time

from pulumi_policy import EnforcementLevel, PolicyPack, ResourceValidationPolicy


def stall(args, report_violation):
    time.sleep(3600)


PolicyPack(
    name="stalls",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=[ResourceValidationPolicy(name="stalls", description="never returns", validate=stall)],
)
