"""Shared fixtures. Isaac Lab env fixtures live in tests/tasks/conftest.py (built once per session)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def g1_mjcf():
    """Path of the provisioned G1 MJCF (scripts/setup.sh provisions it)."""
    from mimiclab.robots.assets import g1_mjcf_path

    return g1_mjcf_path()


@pytest.fixture(scope="session")
def g1_tree(g1_mjcf):
    from mimiclab.robots.kinematic_tree import g1_kinematic_tree

    return g1_kinematic_tree(str(g1_mjcf))
