# A pack cdb judges in-process (it has pack.py) whose only policy raises: the verdict must be an error.
from pulumi_policy import EnforcementLevel, ResourceValidationPolicy

from policy_pack import server


def explode(args, report_violation):
    raise RuntimeError("policy bug: boom")


def servicer():
    policies = [ResourceValidationPolicy(name="explodes", description="always raises", validate=explode)]
    return server.make_servicer("in-process-raises", policies, EnforcementLevel.MANDATORY)
