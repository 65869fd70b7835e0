"""Stand task: the G1 on flat ground holding its default pose under PD (proves the wiring)."""
