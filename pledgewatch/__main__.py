"""`python -m pledgewatch` runs the command line."""

import sys

from pledgewatch.cli import main

# The guard matters: the sweep's parse workers import the main module afresh.
if __name__ == "__main__":
    sys.exit(main())
