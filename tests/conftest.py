"""Hypothesis profiles: ``ci`` (default; 30 examples, derandomised) and ``dev`` (more).

Pick one with HYPOTHESIS_PROFILE=dev python -m pytest.
"""
import os

from hypothesis import HealthCheck, settings

settings.register_profile("ci", max_examples=30, derandomize=True, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=200, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
