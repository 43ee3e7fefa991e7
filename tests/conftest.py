"""Suite-wide settings: ``vhostmc check`` runs the Python explorer unless a test says
otherwise (``--backend auto`` would numba-compile every configuration the suite runs;
tests/test_compiled_explorer.py tests the compiled backend)."""

from __future__ import annotations

import os

os.environ.setdefault("VHOSTMC_BACKEND", "python")
