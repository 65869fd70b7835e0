"""Motion format (.npz keyed by names), readers/writers, motion library, forward kinematics."""
