"""Z3 engines: the symbolic backend of the expression layer, the unrolling, BMC, lasso
search and k-induction.
"""
