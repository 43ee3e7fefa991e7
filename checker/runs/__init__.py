"""checker/runs."""
