"""checker/traces."""
