# A pack cdb judges in-process whose policy never returns: the call deadline must end the run.
import time

from pulumi_policy import EnforcementLevel, ResourceValidationPolicy

from policy_pack import server


def stall(args, report_violation):
    time.sleep(3600)


def servicer():
    policies = [ResourceValidationPolicy(name="stalls", description="never returns", validate=stall)]
    return server.make_servicer("in-process-stalls", policies, EnforcementLevel.MANDATORY)
