"""The language layer: what a model and a property are (model, view, expr, spec, fairness, explain).

Models and specs import only this package; it imports nothing else of the checker.
"""
