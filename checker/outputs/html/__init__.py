"""checker/outputs/html."""
