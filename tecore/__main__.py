"""``python -m tecore`` = the ``tecore`` command (:mod:`tecore.cli`)."""
import sys

from tecore.cli import main

sys.exit(main())
