"""checker/lang."""
