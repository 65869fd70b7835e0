"""Training managers: runners, residual actor-critic, export and deployment contract."""
