"""`python tests/lab/kvmlab up|down|status ...` (this directory run as a script)."""
import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from kvmlab.cli import main
else:
    from .cli import main

sys.exit(main())
