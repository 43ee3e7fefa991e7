"""The named revisions ``--revision NAME`` knows, base first (checker.runs.catalog reads it)."""

REVISIONS: dict[str, str] = {
    "v9": "models.v9:V9",
    "v3.1": "models.v3_1:V3_1",
}
"""Revision name -> ``module:Class`` of its model."""

DEFAULT_REVISION = "v9"
"""The revision commands check when none is named; its parameters are the CLI's options."""
