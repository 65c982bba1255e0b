"""`python -m pledgewatch` runs the command line."""

import sys

from pledgewatch.cli import main

sys.exit(main())
