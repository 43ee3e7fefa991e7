"""Runs: loading revisions and specs, one check, the matrix, revision diffs, replay and
shrink of stored traces, stored run folders.
"""
