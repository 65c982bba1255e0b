"""The schema revision this code works with: the head of migrations/versions (a
test holds it to alembic's own head). Every command checks the database against
it; alembic itself is imported only to migrate, and this module imports nothing,
so a command that only reads can check it before loading any database library.

May import: nothing in pledgewatch.
"""

SCHEMA_HEAD = "b8c9d0e1f2a3"
