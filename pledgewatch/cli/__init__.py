"""The command line: thin commands over the library.

Each command parses its arguments, makes one call into the library and prints
the result (a table, or exactly one JSON document with ``--json``). Errors a
user can fix print one ``error: ...`` line on stderr; exit 2 for bad input,
1 for other failures, 75 when another sweep holds the lock.

May import anything in pledgewatch.
"""

from pledgewatch.cli.app import app, main

__all__ = ["app", "main"]
