"""Residual loco-manipulation task (ResMimic): the tracking task plus an object, its point-cloud and
contact rewards, and a virtual object controller faded out by a curriculum."""
