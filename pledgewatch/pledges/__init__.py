"""The pledge registry: validate, add, edit, list, show, import and export pledges.

Every function takes an open session and plain values (the caller gives the
clock and the person), and raises a pledgewatch error a journalist can act on.
Nothing is written unless everything given is valid.

Values at the edges are refused where they enter, with the field named: dates
from 1900-01-01 (a pledge cannot be made later than today, nor fall due after
2200-12-31), text that a database cannot store or a terminal cannot show
(lone surrogates, control characters), URLs that do not parse or need
escaping, names longer than their columns, ids beyond the id columns' range,
and import files larger than ``MAX_IMPORT_BYTES`` or nested beyond reason.

Modules: validation (pure: every field checked), registry (pledges in a session),
files (CSV and JSON Lines import and export).

May import: pledgewatch.characters, pledgewatch.db, pledgewatch.errors,
pledgewatch.feeds.urls, pledgewatch.matching.query and .derive, pledgewatch.models.
"""

from pledgewatch.pledges.files import (
    HEADER_NAMES,
    ImportResult,
    export_pledges,
    header_column,
    import_pledges,
    read_rows,
)
from pledgewatch.pledges.registry import (
    DERIVER,
    add_pledge,
    all_pledges,
    data_of,
    edit_pledge,
    export_row,
    find_duplicate,
    get_pledge,
    history,
    preview_edit,
    store_derived_query,
)
from pledgewatch.pledges.validation import (
    COLUMNS,
    EARLIEST,
    LATEST_DEADLINE,
    MAX_IMPORT_BYTES,
    MAX_LENGTHS,
    MAX_PERSON,
    MAX_TAG_LENGTH,
    MAX_TAGS,
    REQUIRED_COLUMNS,
    PledgeData,
    check_fields,
    check_person,
    check_status,
    check_url,
    dedupe_key,
    export_row_of,
    in_id_range,
    normalise_key,
    parse_date,
    parse_tags,
    validate,
)

__all__ = [
    "COLUMNS",
    "DERIVER",
    "EARLIEST",
    "HEADER_NAMES",
    "LATEST_DEADLINE",
    "MAX_IMPORT_BYTES",
    "MAX_LENGTHS",
    "MAX_PERSON",
    "MAX_TAGS",
    "MAX_TAG_LENGTH",
    "REQUIRED_COLUMNS",
    "ImportResult",
    "PledgeData",
    "add_pledge",
    "all_pledges",
    "check_fields",
    "check_person",
    "check_status",
    "check_url",
    "data_of",
    "dedupe_key",
    "edit_pledge",
    "export_pledges",
    "export_row",
    "export_row_of",
    "find_duplicate",
    "get_pledge",
    "header_column",
    "history",
    "import_pledges",
    "in_id_range",
    "normalise_key",
    "parse_date",
    "parse_tags",
    "preview_edit",
    "read_rows",
    "store_derived_query",
    "validate",
]
