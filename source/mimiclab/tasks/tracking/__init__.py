"""Motion tracking task: the G1 follows reference clips from a multi-clip motion library."""
