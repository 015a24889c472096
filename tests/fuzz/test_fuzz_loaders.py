"""Every loader answers mutated shipped files with a result or a located GraphRNNError (issue 17).

Hypothesis draws the mutations (tests/fuzz/loaders.py: byte flips, control
characters, extreme numbers, names and paths, deleted/duplicated/swapped
lines, deep nesting, long runs) so a failure shrinks to a small one. The
`ci` profile keeps this to a few hundred inputs in all; the long campaign
with time and memory limits is benchmarks/fuzz_loaders.py.
"""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

_spec = importlib.util.spec_from_file_location("fuzz_loaders_lib", Path(__file__).with_name("loaders.py"))
loaders = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = loaders
_spec.loader.exec_module(loaders)

SEEDS = loaders.seeds()


@pytest.fixture(autouse=True, scope="module")
def small_budget():
    """A memory budget of 256 MiB (plan/limits.py), so a mutation that asks for a huge network is
    refused quickly here instead of building one that fits the default 4 GiB."""
    from graphrnn.plan import limits
    limits.set_memory_limit(256 * 2 ** 20)
    yield
    limits.set_memory_limit(None)


@pytest.mark.parametrize("loader", list(loaders.LOADERS))
def test_the_shipped_files_load(loader):
    for text in SEEDS[loader]:
        err = loaders.check_rule(loader, text)
        assert err is None or loader == "modules", str(err)   # a tree module cannot sit in a sequence net


@pytest.mark.parametrize("loader", list(loaders.LOADERS))
@settings(max_examples=max(settings().max_examples, 25))
@given(data=st.data())
def test_mutated_files_give_a_result_or_a_located_error(loader, data):
    texts = SEEDS[loader]
    text = texts[data.draw(st.integers(0, len(texts) - 1), label="seed file")]

    def pick(n: int) -> int:
        return data.draw(st.integers(0, max(n - 1, 0)))

    loaders.check_rule(loader, loaders.mutate_for(loader, text, pick))
