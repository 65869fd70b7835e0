"""Robot-specific residual task configurations."""
