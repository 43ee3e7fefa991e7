"""Counterexample traces: the Trace object every engine returns, and the ITF format it is
stored in.
"""
