"""`graphrnn check` for ``over: tree`` networks: the tree oracles on random trees.

- ``gradients``: directional central differences along a random direction of
  each parameter array, relative error < 1e-6 (float64);
- ``batch``: a batch of trees equals its trees run one by one;
- ``levels``: level batching equals node-by-node evaluation (values and gradients).

Trees are drawn with numpy from a seed (graphrnn.trees.generate); a failure
prints the seed and the offending trees as s-expressions.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import autograd.numpy as anp
import numpy as np
from autograd import grad

from ..trees import TreeBatch, Vocabulary
from ..trees.generate import random_tree

TREE_CHECKS = ("gradients", "batch", "levels")


@dataclass
class TreeReport:
    name: str
    passed: bool
    detail: str

    def __str__(self) -> str:
        return f"{'PASS' if self.passed else 'FAIL'} {self.name}: {self.detail}"


def _case(net, rng):
    """(batch, params, objective(params, batching)) for one random example."""
    vocab = Vocabulary([f"t{i}" for i in range(net.input_size)])
    arity = net.max_arity if net.max_arity is not None else 3
    forest = [random_tree(rng, vocab.tokens, int(rng.integers(0, 4)), max(arity, 0))
              for _ in range(int(rng.integers(1, 4)))]
    batch = TreeBatch.of(forest, vocab)
    batch = replace(batch, x=rng.normal(size=batch.x.shape))   # any real inputs, not only one-hot
    params = {k: v + rng.uniform(-0.5, 0.5, np.shape(v)) for k, v in net.init(int(rng.integers(2**31))).items()}
    weights = {n: rng.normal(size=(batch.size, net.ir.nodes[n].size)) for n in net.ir.nodes
               if not net.ir.nodes[n].is_input}

    def objective(p, batching="level"):
        trace = net.run(p, batch, batching=batching)
        return sum(anp.sum(anp.sin(trace[n]) * w) for n, w in weights.items())
    return forest, batch, params, objective


def check_tree_network(net, examples: int = 5, seed: int = 0) -> list[TreeReport]:
    """Run the tree checks on ``examples`` random batches; one report per check."""
    rng = np.random.default_rng(seed)
    worst = {name: 0.0 for name in TREE_CHECKS}
    failures: dict[str, str] = {}
    for example in range(examples):
        forest, batch, params, f = _case(net, rng)
        where = f"example {example} (seed {seed}), trees {', '.join(map(str, forest))}"
        analytic = grad(f)(params)
        for name, value in params.items():
            d = rng.normal(size=np.shape(value))
            plus, minus = dict(params), dict(params)
            plus[name], minus[name] = value + 1e-5 * d, value - 1e-5 * d
            numeric = (f(plus) - f(minus)) / 2e-5
            exact = float(np.sum(analytic[name] * d))
            error = abs(exact - numeric) / max(abs(exact), abs(numeric), 1e-2)
            worst["gradients"] = max(worst["gradients"], error)
            if error > 1e-6:
                failures.setdefault("gradients", f"parameter `{name}`: relative error {error:.2e} at {where}")
        together = np.asarray(net.run(params, batch).y_nodes)
        for b, tree in enumerate(forest):
            alone = TreeBatch.of([tree], Vocabulary([f"t{i}" for i in range(net.input_size)]))
            alone = replace(alone, x=batch.x[batch.preorder[b]][np.argsort(alone.preorder[0])])
            gap = float(np.max(np.abs(batch.per_tree(together)[b] - alone.per_tree(
                np.asarray(net.run(params, alone).y_nodes))[0])))
            worst["batch"] = max(worst["batch"], gap)
            if gap > 1e-10:
                failures.setdefault("batch", f"tree {b} differs by {gap:.2e} at {where}")
        node = np.asarray(net.run(params, batch, batching="node").y_nodes)
        g_node = grad(lambda p: f(p, "node"))(params)
        gap = max([float(np.max(np.abs(together - node)))] +
                  [float(np.max(np.abs(analytic[k] - g_node[k]))) for k in params])
        worst["levels"] = max(worst["levels"], gap)
        if gap > 1e-9:
            failures.setdefault("levels", f"level and node batching differ by {gap:.2e} at {where}")
    details = {"gradients": f"directional central differences, worst relative error {worst['gradients']:.1e}",
               "batch": f"a batch equals its trees one by one (largest gap {worst['batch']:.1e})",
               "levels": f"level batching equals node-by-node (largest gap {worst['levels']:.1e})"}
    return [TreeReport(name, name not in failures, failures.get(name, details[name])) for name in TREE_CHECKS]
