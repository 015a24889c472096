"""graphrnn's engines against their peers, as an independent benchmark would time them.

Run by hand:  python benchmarks/bench_peers.py [--rounds N] [--quick] [--only lstm,gru,unit,adding,ntm,trees]

One process, BLAS and PyTorch on one thread, contenders interleaved round
by round (paired.py); every figure is the median over rounds of the paired
ratio of process CPU times, with the wall-time medians beside it.  Losses
and gradients are checked equal before anything is timed.

1. LSTM loss+gradient at (I, H, B, T): graphrnn's `lstm` network (default
   engine, float64 and float32) against nn.LSTM (float64, float32, same
   weights), the BLAS floor (the matmuls alone) and a minimal numpy LSTM
   (numpy_lstm.py: what a numpy engine can reach).
2. GRU loss+gradient: graphrnn's `gru` network (from nn.GRU's weights)
   against nn.GRU, float64.
3. A 64-unit fully recurrent net written at the unit level (64 size-1 nodes)
   against the same function as one 64-unit node (B=8, T=50).
4. The 1997 adding network (specs/lstm1997_adding.yaml, T = 100, batch 1,
   its truncated gradient): one training sequence (forward, gradient, SGD
   update), milliseconds.
5. The NTM copy network (specs/ntm_copy.yaml): loss+gradient of one copy
   sequence of length 16 (33 steps) at batch 1, graphrnn (default engine,
   float64) / an NTM written from the paper in PyTorch (torch_ntm.py, same
   weights, float64).  Issue 14's target: <= 0.5.
6. The child-sum Tree-LSTM classifier (specs/tree_lstm_classifier.yaml) on
   64 boolean expressions of depth 5-8 (bench_trees.py's data; xent at the
   roots), forward+backward: graphrnn (tree engine, float64 and float32) /
   a level-batched PyTorch Tree-LSTM (torch_tree_lstm.py, float64 and
   float32).

Rows 5 and 6 check the loss and every gradient, entry by entry, against
graphrnn's (float64 to 1e-9 relative, float32 to 1e-4), with the biases
drawn at random so that every parameter's place is tested.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import paired  # noqa: E402  (sets the thread variables before numpy loads)

import numpy as np  # noqa: E402

import graphrnn as gr  # noqa: E402
from graphrnn.runtime import generated  # noqa: E402
from graphrnn.tasks import make_task  # noqa: E402
from graphrnn.train.optimizers import SGD  # noqa: E402
from graphrnn.train.step import training_step  # noqa: E402
from bench_core import fully_recurrent_yaml  # noqa: E402
from bench_engines import blas_floor, one_node_yaml, unit_to_node  # noqa: E402
from lstm_baselines import hand_params, lstm_yaml, torch_lstm  # noqa: E402
from numpy_lstm import NumpyLSTM  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
NTM_COPY_LENGTH = 16
LSTM_SIZES = [(8, 32, 16, 50), (32, 128, 32, 100), (64, 256, 64, 100), (8, 8, 1, 200)]


def close(a, b, tol) -> bool:
    return abs(a - b) <= tol * max(abs(a), abs(b), 1e-300)


def check(label, a, b, tol):
    if not close(a, b, tol):
        raise SystemExit(f"{label}: {a!r} != {b!r} (tolerance {tol}); not timing contenders that disagree")


def have_torch() -> bool:
    try:
        import torch  # noqa: F401
        return True
    except ImportError:
        return False


def check_grads(label, ours: dict, theirs: dict, tol):
    """Every gradient of ``ours`` (graphrnn's names) equal to ``theirs``, entry by entry, to ``tol``
    relative to the gradient's largest entry; the same names and shapes on both sides."""
    if set(ours) != set(theirs):
        raise SystemExit(f"{label}: gradient names differ: {sorted(set(ours) ^ set(theirs))}")
    for name in sorted(ours):
        a, b = np.asarray(ours[name], dtype=float), np.asarray(theirs[name], dtype=float)
        if a.shape != b.shape:
            raise SystemExit(f"{label} gradient {name}: shape {a.shape} != {b.shape}")
        gap, scale = float(np.abs(a - b).max()), max(float(np.abs(a).max()), 1e-300)
        if not gap <= tol * scale:
            raise SystemExit(f"{label} gradient {name}: off by {gap:.3g} (largest entry {scale:.3g}, "
                             f"tolerance {tol}); not timing contenders that disagree")


def perturbed_biases(params, seed=5):
    """``params`` with every bias drawn from N(0, 0.5^2): init's zero biases would let a bias
    wired to the wrong place pass the equality checks."""
    rng = np.random.default_rng(seed)
    return {k: rng.normal(scale=0.5, size=np.shape(v)) if k.endswith("bias") else v for k, v in params.items()}


def cell(rounds_, a, b) -> str:
    lo, hi = rounds_.spread(a, b)
    return f"{a}/{b} {rounds_.ratio(a, b):5.2f} [{lo:.2f}-{hi:.2f}]"


def walls(rounds_, names) -> str:
    return "wall ms: " + ", ".join(f"{n} {rounds_.wall_median(n) * 1e3:.2f}" for n in names)


def lstm_table(sizes, rounds):
    print("\n1. LSTM loss+gradient, paired CPU-time ratios (median [25%-75%] over rounds)")
    print("   columns as in issue 14: fused64/torch64, fused32/torch32, floor/fused64, numpy/fused64;")
    print("   and compiled64/torch64 (engine='compiled': numba loops up to its batch limit, numpy passes above)")
    torch_ok = have_torch()
    compiled_ok = generated.available()
    for I, H, B, T in sizes:
        net64 = gr.loads(lstm_yaml(I, H))
        net32 = gr.loads(lstm_yaml(I, H), dtype="float32")
        params = net64.init(0)
        rng = np.random.default_rng(0)
        x = rng.normal(size=(T, B, I))
        target = rng.normal(size=(T, B, H))
        hp = hand_params(params)
        numpy_lstm = NumpyLSTM()
        loss64, grads64 = net64.value_and_grad(params, x, target)
        loss_np, grads_np = numpy_lstm.loss_and_grad(hp, x, target)
        check("numpy LSTM loss", loss_np, loss64, 1e-9)
        for key, g in hand_params(grads64).items():
            check(f"numpy LSTM gradient {key}", float(np.abs(grads_np[key]).sum()), float(np.abs(g).sum()), 1e-9)
        contenders = {
            "fused64": lambda: net64.value_and_grad(params, x, target),
            "fused32": lambda: net32.value_and_grad(params, x, target),
            "floor64": blas_floor(hp, x),
            "numpy64": lambda: numpy_lstm.loss_and_grad(hp, x, target),
        }
        if compiled_ok:
            compiled = gr.loads(lstm_yaml(I, H), engine="compiled")
            check("compiled loss", compiled.value_and_grad(params, x, target)[0], loss64, 1e-9)
            contenders["compiled64"] = lambda: compiled.value_and_grad(params, x, target)
        if torch_ok:
            import torch
            t64 = torch_lstm(hp, x, target, torch.float64)
            t32 = torch_lstm(hp, x, target, torch.float32)
            check("torch64 loss", t64(), loss64, 1e-9)
            check("torch32 loss", t32(), loss64, 1e-4)
            contenders.update({"torch64": t64, "torch32": t32})
        r = paired.paired(contenders, rounds=rounds)
        label = f"   ({I},{H},{B},{T})"
        cells = []
        if torch_ok:
            cells += [f"fused64/torch64 {r.ratio('fused64', 'torch64'):.2f}",
                      f"fused32/torch32 {r.ratio('fused32', 'torch32'):.2f}"]
        cells += [f"floor/fused64 {r.ratio('floor64', 'fused64'):.2f}",
                  f"numpy/fused64 {r.ratio('numpy64', 'fused64'):.2f}"]
        if compiled_ok and torch_ok:
            path = "loops" if B <= compiled.engine.largest_loop_batch(compiled.plan) else "numpy passes"
            cells.append(f"compiled64/torch64 {r.ratio('compiled64', 'torch64'):.2f} ({path})")
        walls = ", ".join(f"{n} {r.wall_median(n) * 1e3:.2f}" for n in contenders)
        print(f"{label}: " + "; ".join(cells) + f"\n{' ' * len(label)}  wall ms: {walls}")


def gru_row(rounds):
    if not have_torch():
        print("\n2. GRU: skipped (no PyTorch)")
        return
    import torch
    from graphrnn.interop.torch import from_torch
    print("\n2. GRU loss+gradient, float64, graphrnn / nn.GRU (same weights)")
    for I, H, B, T in [(8, 32, 16, 50), (32, 128, 32, 100)]:
        torch.manual_seed(0)
        module = torch.nn.GRU(I, H).double()
        net, params = from_torch(module)
        rng = np.random.default_rng(0)
        x = rng.normal(size=(T, B, I))
        target = rng.normal(size=(T, B, H))
        xt, tt = torch.tensor(x), torch.tensor(target)

        def run_torch():
            module.zero_grad()
            out, _ = module(xt)
            loss = ((out - tt) ** 2).mean()
            loss.backward()
            return loss.item()
        loss = net.value_and_grad(params, x, target)[0]
        check("GRU loss", run_torch(), loss, 1e-9)
        contenders = {"fused64": lambda: net.value_and_grad(params, x, target), "torch64": run_torch}
        compiled = None
        if generated.available():
            compiled = net.with_engine("compiled")
            check("GRU compiled loss", compiled.value_and_grad(params, x, target)[0], loss, 1e-9)
            contenders["compiled64"] = lambda: compiled.value_and_grad(params, x, target)
        r = paired.paired(contenders, rounds=rounds)
        line = f"   ({I},{H},{B},{T}): fused64/torch64 {r.ratio('fused64', 'torch64'):.2f}"
        if compiled is not None:
            path = "loops" if B <= compiled.engine.largest_loop_batch(compiled.plan) else "numpy passes"
            line += f"; compiled64/torch64 {r.ratio('compiled64', 'torch64'):.2f} ({path})"
        print(line + f"   ({walls(r, contenders)})")


def unit_row(rounds, units=64, batch=8, steps=50):
    print(f"\n3. {units} units written unit by unit vs one {units}-unit node (B={batch}, T={steps}, default engine)")
    unit = gr.loads(fully_recurrent_yaml(units))
    node = gr.loads(one_node_yaml(units))
    rng = np.random.default_rng(1)
    x = rng.normal(size=(steps, batch, 2))
    target = rng.uniform(size=(steps, batch, 2))
    pu = unit.init(0)
    pn = unit_to_node(pu, node.init(0), units)
    check("unit-level loss", unit.loss(pu, x, target), node.loss(pn, x, target), 1e-9)
    r = paired.paired({"unit": lambda: unit.value_and_grad(pu, x, target),
                       "node": lambda: node.value_and_grad(pn, x, target)}, rounds=rounds)
    print(f"   unit/node {r.ratio('unit', 'node'):.2f}   (wall ms: unit {r.wall_median('unit') * 1e3:.2f}, "
          f"node {r.wall_median('node') * 1e3:.2f}; {unit.num_params} parameters)")


def adding_row(rounds):
    print("\n4. The 1997 adding network (specs/lstm1997_adding.yaml), one training sequence: T=100, batch 1, "
          "forward, its truncated gradient, SGD update")
    task = make_task("adding", T=100)
    batch = task.sample(np.random.default_rng(0), 1)
    engines = ["fused"] + (["compiled"] if generated.available() else [])
    contenders, losses = {}, {}
    for engine in engines:
        net = gr.load(ROOT / "specs" / "lstm1997_adding.yaml", engine=engine)
        optimizer = SGD(0.5)
        params = net.init(0)
        state = optimizer.init(params, names=net.trainable)

        def sequence(net=net, optimizer=optimizer, params=params, state=state):
            def gradient(p):
                loss, grads = net.value_and_grad(p, batch.x, batch.target, task.loss, batch.mask)
                return loss, grads, None
            # the update is made and thrown away, so every round times the same sequence
            return training_step(gradient, params, state, optimizer, 0, seen=0).loss
        losses[engine] = sequence()
        contenders[engine] = sequence
    if "compiled" in losses:
        check("compiled vs fused loss", losses["compiled"], losses["fused"], 1e-9)
    r = paired.paired(contenders, rounds=rounds)
    for engine in engines:
        print(f"   {engine}: {r.cpu_median(engine) * 1e3:.3f} ms CPU, {r.wall_median(engine) * 1e3:.3f} ms wall "
              f"per sequence")
    if "compiled" in losses:
        print(f"   compiled/fused {r.ratio('compiled', 'fused'):.3f}")


def ntm_row(rounds, length=NTM_COPY_LENGTH):
    print(f"\n5. NTM copy (specs/ntm_copy.yaml), one training sequence at batch 1: copy length {length}, "
          f"loss+gradient, float64")
    if not have_torch():
        print("   skipped (no PyTorch)")
        return
    import torch
    from torch_ntm import TorchNTM
    from graphrnn.tasks import make_task
    net = gr.load("ntm_copy")
    params = perturbed_biases(net.init(0))
    task = make_task("copy", min_length=length, max_length=length)
    b = task.sample(np.random.default_rng(0), 1)
    module = TorchNTM.from_graphrnn(params)
    xt, tt, mt = torch.tensor(b.x), torch.tensor(b.target), torch.tensor(b.mask)

    def run_torch():
        module.zero_grad()
        loss = module.loss(xt, tt, mt)
        loss.backward()
        return loss.item()
    loss, grads = net.value_and_grad(params, b.x, b.target, kind=task.loss, mask=b.mask)
    check("NTM loss", run_torch(), float(loss), 1e-9)
    check_grads("NTM", grads, module.graphrnn_grads(), 1e-9)
    contenders = {"graphrnn64": lambda: net.value_and_grad(params, b.x, b.target, kind=task.loss, mask=b.mask),
                  "torch64": run_torch}
    r = paired.paired(contenders, rounds=rounds, target=0.2)
    print(f"   T={b.x.shape[0]} steps, {net.num_params} weights, graphrnn engine {net.engine.name}: "
          f"{cell(r, 'graphrnn64', 'torch64')}   (issue target <= 0.5; {walls(r, contenders)})")


def trees_row(rounds, trees=64, depths=(5, 8)):
    print(f"\n6. Tree-LSTM (specs/tree_lstm_classifier.yaml), {trees} boolean expressions of depth "
          f"{depths[0]}-{depths[1]}, forward+backward, level-batched")
    if not have_torch():
        print("   skipped (no PyTorch)")
        return
    import torch
    from torch_tree_lstm import TorchTreeLSTM
    from graphrnn.tasks.expressions import BooleanExpressions
    net64, net32 = gr.load("tree_lstm_classifier"), gr.load("tree_lstm_classifier", dtype="float32")
    params = perturbed_biases(net64.init(0))
    task = BooleanExpressions()
    drawn, labels = task.draw(np.random.default_rng(trees), trees, depths)
    batch = task.batch(drawn)
    loss, grads = net64.value_and_grad(params, batch, labels, kind="xent")
    check("graphrnn float32 Tree-LSTM loss", float(net32.loss(params, batch, labels, kind="xent")), float(loss), 1e-5)
    contenders = {"graphrnn64": lambda: net64.value_and_grad(params, batch, labels, kind="xent"),
                  "graphrnn32": lambda: net32.value_and_grad(params, batch, labels, kind="xent")}
    for dtype, name, tol in ((torch.float64, "torch64", 1e-9), (torch.float32, "torch32", 1e-4)):
        module = TorchTreeLSTM.from_graphrnn(params, batch, dtype)
        target = torch.tensor(labels)

        def run_torch(module=module, target=target):
            module.zero_grad()
            value = module.loss(target)
            value.backward()
            return value.item()
        check(f"{name} Tree-LSTM loss", run_torch(), float(loss), tol)
        check_grads(f"{name} Tree-LSTM", grads, module.graphrnn_grads(), tol)
        contenders[name] = run_torch
    r = paired.paired(contenders, rounds=rounds, target=0.2)
    print(f"   {batch.size} tree nodes, {len(batch.levels)} levels, graphrnn engine {net64.engine.name}: "
          f"{cell(r, 'graphrnn64', 'torch64')}; {cell(r, 'graphrnn64', 'torch32')}; "
          f"{cell(r, 'graphrnn32', 'torch32')}\n   {walls(r, contenders)}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--quick", action="store_true", help="smallest sizes, 5 rounds")
    parser.add_argument("--only", default="lstm,gru,unit,adding,ntm,trees")
    args = parser.parse_args(argv)
    print(paired.one_thread())
    print(f"numpy {np.__version__}; graphrnn from {Path(gr.__file__).parent}")
    rounds = 5 if args.quick else args.rounds
    parts = set(args.only.split(","))
    if "lstm" in parts:
        lstm_table(LSTM_SIZES[:1] + LSTM_SIZES[-1:] if args.quick else LSTM_SIZES, rounds)
    if "gru" in parts:
        gru_row(rounds)
    if "unit" in parts:
        unit_row(rounds)
    if "adding" in parts:
        adding_row(rounds)
    if "ntm" in parts:
        ntm_row(rounds)
    if "trees" in parts:
        trees_row(rounds)


if __name__ == "__main__":
    main()
