"""Robot-specific tracking task configurations."""
