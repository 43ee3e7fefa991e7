"""Seeded mutants of the v9 model: one plausible kernel mistake per file (bench/mutants.py)."""
