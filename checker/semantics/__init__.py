"""checker/semantics."""
