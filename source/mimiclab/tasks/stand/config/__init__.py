"""Robot-specific stand task configurations."""
