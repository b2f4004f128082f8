"""Entry point the Pulumi CLI runs (`python -u -m pulumi.policy <engine> <pack dir>`, cwd = pack dir).

The pack directory is sys.path[0] there, so the wiring imports as the top-level module ``pack``; it
serves the pack with server.Servicer (decode once per request) and clause 8's refusal of any config
that weakens a policy (rules/no_exceptions.py).
"""

import pack

pack.serve()
