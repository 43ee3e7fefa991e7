"""Concrete execution of a model: initial state, firing an action, successors, property
values; and the straight-line Python generated from the one model definition for speed.
"""
