"""The equivalence checks: the same numbers however the network is run or written.

``batch`` (a batch = its rows), ``unroll`` (the planned run = the step-by-step
reference), ``order`` (shuffled ``nodes:``/``edges:``) and ``roundtrip``
(load -> dump -> load).  All compare exactly (1e-12) and raise
:class:`PropertyError`.
"""
from __future__ import annotations

import math

from hypothesis import strategies as st

from ...errors import GraphRNNError
from ...runtime import Network
from ..dump import dumps, plain
from ..reference import reference_run
from ..strategies import Case, cases
from .driver import (DEFAULT_EXAMPLES, _describe_case, _engine_note, _Outcome, _report, _search,
                     _trace_place, _variant, _Worst)
from .report import Report, _entry, _finish

EXACT = 1e-12        # batch, unroll, order, round trip


# -- a batch is its rows -------------------------------------------------------------------

def _batch(net, examples: int, seed: int, tolerance: float = EXACT,
           max_steps: int = 4, max_batch: int = 3) -> Report:
    work = _variant(net)

    def measure(case: Case) -> _Outcome:
        whole = work.run(case.params, case.x)
        worst = _Worst()
        for b in range(case.batch):
            row = work.run(case.params, case.x[:, b:b + 1, :])
            for node in work.ir.nodes:
                worst.compare(node, whole[node][:, b:b + 1, :], row[node], row=b)
        return worst.outcome(tolerance, "in the batch", "row alone", lambda info: (
            f"node `{info['label']}` at step t={info['index'][0]}, batch row {info['row']}, "
            f"unit {info['index'][2]}"))

    result = _search(cases(work, max_steps=max_steps, max_batch=max(2, max_batch), min_batch=2),
                     measure, examples, seed)
    return _report("batch", result, tolerance, "max difference", _describe_case,
                   "running the batch differs from running its rows one by one", notes=_engine_note(net))


# -- the planned run vs the step-by-step reference -----------------------------------------

def _unroll(net, examples: int, seed: int, tolerance: float = EXACT,
            max_steps: int = 4, max_batch: int = 3) -> Report:
    work = _variant(net)

    def measure(case: Case) -> _Outcome:
        trace = work.run(case.params, case.x)
        want = reference_run(work.ir, case.params, case.x)
        worst = _Worst()
        for node in work.ir.nodes:
            worst.compare(node, trace[node], want[node])
        return worst.outcome(tolerance, "planned run", "reference_run", _trace_place)

    result = _search(cases(work, max_steps=max_steps, max_batch=max_batch), measure, examples, seed)
    return _report("unroll", result, tolerance, "max difference", _describe_case,
                   f"the planned run ({work.engine.name} engine) differs from the step-by-step reference "
                   "interpreter (graphrnn.testing.reference_run)", notes=_engine_note(net))


# -- the same network, written differently -------------------------------------------------

def _no_spec(name: str, net) -> Report | None:
    if net.spec is None:
        return Report(name, True, 0, skipped="the network was not built from a spec")
    if net.spec.kind != "network":
        return Report(name, True, 0, skipped=f"the spec is a {net.spec.kind}, not a network")
    return None


def _graph_difference(a, b, instance_order: bool = True) -> str | None:
    """The first difference between two expanded graphs, or None (locations ignored).

    ``instance_order=False`` compares the module instances as a set: their
    order is the YAML's (``graphrnn show`` lists them as written).
    """
    if a.name != b.name:
        return f"name {a.name!r} vs {b.name!r}"
    if list(a.inputs.items()) != list(b.inputs.items()):
        return f"inputs {dict(a.inputs)} vs {dict(b.inputs)}"
    if list(a.outputs.items()) != list(b.outputs.items()):
        return f"outputs {dict(a.outputs)} vs {dict(b.outputs)}"
    if list(a.nodes) != list(b.nodes):
        return f"node names {list(a.nodes)} vs {list(b.nodes)}"
    for name, node in a.nodes.items():
        if node != b.nodes[name]:
            return f"node `{name}`: {node!r} vs {b.nodes[name]!r}"
    if len(a.edges) != len(b.edges):
        return f"{len(a.edges)} edges vs {len(b.edges)}"
    for i, (x, y) in enumerate(zip(a.edges, b.edges)):
        if x != y:
            return f"edge {i}: {x!r} vs {y!r}"
    first, second = a.instances, b.instances
    if not instance_order:
        first, second = (sorted(i, key=lambda m: m.name) for i in (first, second))
    if list(first) != list(second):
        return f"module instances {[str(m) for m in first]} vs {[str(m) for m in second]}"
    return None


def _same_network(work, other, init_seed: int, case: Case, got_name: str, want_name: str,
                  tolerance: float, instance_order: bool = True) -> _Outcome:
    differs = _graph_difference(other.ir, work.ir, instance_order)
    if differs:
        return _Outcome(math.inf, True, {"graph": differs}, (f"expanded graphs differ: {differs}",))
    if list(other.params) != list(work.params):
        return _Outcome(math.inf, True, {"params": (list(other.params), list(work.params))},
                        (f"parameter names differ: {list(other.params)} vs {list(work.params)}",))
    if other.trainable != work.trainable:
        return _Outcome(math.inf, True, {"trainable": sorted(other.trainable ^ work.trainable)},
                        (f"trainable parameters differ: {sorted(other.trainable ^ work.trainable)}",))
    worst = _Worst()
    first, second = other.init(init_seed), work.init(init_seed)
    for name in second:
        worst.compare(name, first[name], second[name], what="init")
    a, b = other.run(case.params, case.x), work.run(case.params, case.x)
    for node in work.ir.nodes:
        worst.compare(node, a[node], b[node], what="value")

    def where(info):
        if info["what"] == "init":
            return f"init({init_seed}) value of {_entry(info['label'], info['index'])}"
        return "value of " + _trace_place(info)
    return worst.outcome(tolerance, got_name, want_name, where)


def _order(net, examples: int, seed: int, tolerance: float = EXACT,
           max_steps: int = 4, max_batch: int = 3) -> Report:
    skip = _no_spec("order", net)
    if skip:
        return skip
    work = _variant(net)
    doc = plain(net.spec.data)
    node_names = list(doc.get("nodes") or {})
    edge_count = len(doc.get("edges") or [])

    def shuffled(node_order, edge_order) -> str:
        out = dict(doc)
        if node_names:
            out["nodes"] = {name: doc["nodes"][name] for name in node_order}
        if edge_count:
            out["edges"] = [doc["edges"][i] for i in edge_order]
        return dumps(out)

    def measure(drawn) -> _Outcome:
        case, node_order, edge_order, init_seed = drawn
        other = _load_like(work, shuffled(node_order, edge_order))
        return _same_network(work, other, init_seed, case, "shuffled", "as written", tolerance,
                             instance_order=False)

    def describe(drawn) -> str:
        case, node_order, edge_order, init_seed = drawn
        return "\n".join([f"    nodes in the order: {', '.join(node_order)}",
                          f"    edges in the order: {', '.join(f'edges[{i}]' for i in edge_order)}",
                          f"    init seed {init_seed}", _describe_case(case)])

    strategy = st.tuples(cases(work, max_steps=max_steps, max_batch=max_batch),
                         st.permutations(node_names), st.permutations(list(range(edge_count))),
                         st.integers(0, 2**16))
    result = _search(strategy, measure, examples, seed)
    return _report("order", result, tolerance, "max difference", describe,
                   "the network depends on the order of `nodes:` or `edges:` in the YAML",
                   notes=_engine_note(net))


def _load_like(work, text: str) -> Network:
    from ...compiler import loads
    return loads(text, work.spec.file, engine=work.engine.name)


def _roundtrip(net, examples: int, seed: int, tolerance: float = EXACT,
               max_steps: int = 4, max_batch: int = 3) -> Report:
    skip = _no_spec("roundtrip", net)
    if skip:
        return skip
    work = _variant(net)
    text = dumps(net)
    try:
        other = _load_like(work, text)
    except GraphRNNError as err:
        return Report("roundtrip", False, 1, math.inf, tolerance, "max difference",
                      {"error": str(err)}, None, None,
                      ("the dumped YAML does not load again:",) + tuple(str(err).splitlines())
                      + ("the dumped text:",) + tuple("  " + line for line in text.splitlines()))

    def measure(drawn) -> _Outcome:
        case, init_seed = drawn
        return _same_network(work, other, init_seed, case, "reloaded", "original", tolerance)

    def describe(drawn) -> str:
        case, init_seed = drawn
        return f"    init seed {init_seed}\n" + _describe_case(case)

    strategy = st.tuples(cases(work, max_steps=max_steps, max_batch=max_batch), st.integers(0, 2**16))
    result = _search(strategy, measure, examples, seed)
    return _report("roundtrip", result, tolerance, "max difference", describe,
                   "load -> dump (graphrnn.testing.dumps) -> load does not give the same network",
                   notes=_engine_note(net))


def check_batch(net, examples: int = DEFAULT_EXAMPLES, seed: int = 0, *, tolerance: float = EXACT,
                max_steps: int = 4, max_batch: int = 3) -> Report:
    """A batch of B >= 2 rows gives, for every node, what each row gives alone."""
    return _finish(_batch(net, examples, seed, tolerance, max_steps, max_batch))


def check_unroll(net, examples: int = DEFAULT_EXAMPLES, seed: int = 0, *, tolerance: float = EXACT,
                 max_steps: int = 4, max_batch: int = 3) -> Report:
    """The planned run = :func:`~graphrnn.testing.reference_run` (the step-by-step interpreter), every node."""
    return _finish(_unroll(net, examples, seed, tolerance, max_steps, max_batch))


def check_order(net, examples: int = DEFAULT_EXAMPLES, seed: int = 0, *, tolerance: float = EXACT,
                max_steps: int = 4, max_batch: int = 3) -> Report:
    """Reordering ``nodes:`` and ``edges:`` in the YAML gives the same network.

    The same expanded graph, the same parameter names and ``init`` values,
    the same trainable set, the same values at every node.  Skipped for a
    network built without a spec.
    """
    return _finish(_order(net, examples, seed, tolerance, max_steps, max_batch))


def check_roundtrip(net, examples: int = DEFAULT_EXAMPLES, seed: int = 0, *, tolerance: float = EXACT,
                    max_steps: int = 4, max_batch: int = 3) -> Report:
    """load -> :func:`~graphrnn.testing.dumps` -> load gives the same network (as :func:`check_order`)."""
    return _finish(_roundtrip(net, examples, seed, tolerance, max_steps, max_batch))
