"""Hypothesis profiles: ``ci`` (default; 30 examples, derandomised) and ``dev`` (more).

Pick one with HYPOTHESIS_PROFILE=dev python -m pytest.
"""
import os
import sys

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("ci", max_examples=30, derandomize=True, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=200, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture
def registry():
    """Undo every node kind and plugin module a test (or a `--plugin` run) registers."""
    from graphrnn.ops import OPS
    kinds, modules = set(OPS), set(sys.modules)
    yield
    for name in set(OPS) - kinds:
        OPS.pop(name)
    for name in set(sys.modules) - modules:
        if name.startswith("graphrnn_plugin_"):
            sys.modules.pop(name)
