"""Entry point the Pulumi language host runs: `python <this folder> <engine address> [flags]`.

The folder is run as a script, so the repository root (where `components/` lives) is put on the path.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from provider.host import main  # noqa: E402 - needs the path above

if __name__ == "__main__":
    main(sys.argv[1:])
