"""Explicit-state enumeration: the explorer, fair-cycle analysis, and the engine object.
"""
