"""Entry point the Pulumi CLI runs (`python -u -m pulumi.policy <engine> <pack dir>`, cwd = pack dir).

The pack directory is sys.path[0] there, so the rules import as the top-level package ``rules`` and the
servicer module as ``server``. The pack is served by server.serve (decode once per request), with a
servicer that also refuses any config weakening a policy (clause 8, rules/no_exceptions.py).
"""

from pulumi_policy import EnforcementLevel

import server
from rules import PACK_DESCRIPTION, PACK_NAME, POLICIES
from rules.no_exceptions import RefuseWeakening


class PackServicer(RefuseWeakening, server.Servicer):
    """The pack's servicer: server.Servicer's Analyze paths, clause 8's Configure."""


server.serve(PACK_NAME, POLICIES, EnforcementLevel.MANDATORY, servicer_class=PackServicer, description=PACK_DESCRIPTION)
