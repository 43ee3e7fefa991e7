"""checker/engines/symbolic."""
