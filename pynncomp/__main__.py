"""``python -m pynncomp`` runs the ``pynncomp`` command."""
import sys

from .cli import main

sys.exit(main())
