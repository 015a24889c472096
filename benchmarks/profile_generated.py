"""Where the fused engine's time goes: an ablation profile of its generated numpy passes.

Run by hand:  python benchmarks/profile_generated.py [--rounds N]

For the LSTM and GRU sizes of bench_peers.py, the plan's generated forward
and backward source (runtime/generated_numpy.py) is timed three ways in
one process, interleaved round by round (process CPU time, medians):

- ``full``: as the engine runs it;
- ``no GEMM``: the same source with every matrix product removed (the
  elementwise numpy calls and the Python that issues them);
- ``skeleton``: the step loops with every numpy statement removed (what
  the Python loop itself costs).

So GEMM ~ full - no GEMM, elementwise numpy ~ no GEMM - skeleton.  It also
counts the numpy calls one step issues, forward and backward, and times the
LSTM's matrix products alone in numpy and in PyTorch (each on its own BLAS:
OpenBLAS for numpy's wheels, MKL for PyTorch's), paired; and last, a 64-unit
unit-level spec against its one-node twin beside the per-parameter work
between them (flattening the parameter dict, splitting the gradient).  The removed
statements make the numbers wrong, not the timing: only the times are
printed.
"""
from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import graphrnn as gr  # noqa: E402
from graphrnn.interop.torch import stack_spec  # noqa: E402
from graphrnn.runtime import generated, generated_numpy  # noqa: E402
from lstm_baselines import lstm_yaml  # noqa: E402



def ablated(source: str, keep) -> str:
    """``source`` with the statements inside ``def`` bodies that ``keep`` rejects replaced by ``pass``."""
    lines = []
    for line in source.splitlines():
        body = line.strip()
        structural = (not body or body.startswith(("def ", "for ", "return", "T =", "Bn =")) or
                      "np.empty(" in body)
        if structural or keep(body):
            lines.append(line)
        else:
            lines.append(line[:len(line) - len(line.lstrip())] + "pass")
    return "\n".join(lines) + "\n"


def compiled(source: str):
    names = generated_numpy.namespace()
    exec(compile(source, "<ablated>", "exec"), names)
    return names


def calls_per_step(source: str, function: str) -> int:
    """numpy statements inside the step loop of ``function``."""
    text = source.split(f"def {function}(")[1].split("\ndef ")[0]
    loop = [line for line in text.splitlines() if line.startswith("        ")]
    return sum(1 for line in loop if "np." in line or "+=" in line or "act_" in line or "grad_" in line)


def profile(label, net, T, B, rounds):
    plan = net.plan
    arrays = net.assembler.forward(net.assembler.flatten(net.init(0)))
    x = np.random.default_rng(0).normal(size=(T, B, plan.input_width))
    passes = generated.CompiledPlan(plan, "numpy")
    outputs = {plan.node_block[node][0] for node in plan.outputs.values()}
    source = generated_numpy.forward_source(plan) + "\n\n" + generated_numpy.backward_source(plan)
    variants = {
        "full": compiled(source),
        "no GEMM": compiled(ablated(re.sub(r"h = np.matmul\(src.reshape\(-1, src.shape\[-1\]\), (W\d+)\)"
                                           r".reshape\(T, Bn, -1\)", r"h = np.zeros((T, Bn, \1.shape[1]))", source),
                                    lambda s: "matmul" not in s and " @ " not in s)),
        "skeleton": compiled(ablated(source, lambda s: s.startswith(("r = ", "gr = ", "src = ", "d = ")))),
    }
    times = {name: [] for name in variants}
    for _ in range(rounds):
        for name, functions in variants.items():
            passes._forward, passes._backward = functions["forward"], functions["backward"]
            start = time.process_time()
            values, slots = passes.forward(arrays, x, scratch=True)
            passes.backward(arrays, x, values, slots, {b: values[b] for b in outputs}, scratch=True)
            times[name].append(time.process_time() - start)
    full, no_gemm, skeleton = (np.median(times[n]) for n in ("full", "no GEMM", "skeleton"))
    print(f"{label}: full {full * 1e3:.1f} ms = GEMM {100 * (full - no_gemm) / full:.0f}% + elementwise numpy "
          f"{100 * (no_gemm - skeleton) / full:.0f}% + Python loop {100 * skeleton / full:.0f}%; "
          f"numpy statements per step: forward {calls_per_step(source, 'forward')}, "
          f"backward {calls_per_step(source, 'backward')} ({T} steps)")


def gemm_peers(I, H, B, T, rounds):
    """The LSTM's matrix products alone (input projection, T recurrent steps forward and backward,
    the weight gradients), numpy (its BLAS) / PyTorch (its BLAS), float64, paired CPU times."""
    try:
        import torch
    except ImportError:
        return "no PyTorch"
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    x, wx, wh = rng.normal(size=(T * B, I)), rng.normal(size=(I, 4 * H)), rng.normal(size=(H, 4 * H))
    h, g = rng.normal(size=(B, H)), rng.normal(size=(T * B, 4 * H))
    tx, twx, twh, th, tg = (torch.tensor(a) for a in (x, wx, wh, h, g))

    def products(mm, x, wx, wh, h, g):
        mm(x, wx)
        for t in range(T):
            mm(h, wh)
            mm(g[t * B:(t + 1) * B], wh.T)
        mm(x.T, g)
        mm(h.T, g[:B])

    ratios = []
    for _ in range(rounds):
        start = time.process_time()
        products(np.matmul, x, wx, wh, h, g)
        mid = time.process_time()
        products(torch.mm, tx, twx, twh, th, tg)
        ratios.append((mid - start) / (time.process_time() - mid))
    return f"{np.median(ratios):.2f}"


def unit_level(rounds, units=64, batch=8, steps=50):
    """The unit-level spec against its one-node twin, and the per-parameter work in between."""
    from bench_peers import fully_recurrent_yaml, one_node_yaml, unit_to_node
    unit, node = gr.loads(fully_recurrent_yaml(units)), gr.loads(one_node_yaml(units))
    rng = np.random.default_rng(1)
    x, target = rng.normal(size=(steps, batch, 2)), rng.uniform(size=(steps, batch, 2))
    pu = unit.init(0)
    pn = unit_to_node(pu, node.init(0), units)
    theta = unit.assembler.flatten_checked(pu)
    parts = {"unit-level call": lambda: unit.value_and_grad(pu, x, target),
             "one-node call": lambda: node.value_and_grad(pn, x, target),
             "flatten_checked (params -> theta)": lambda: unit.assembler.flatten_checked(pu),
             "split (theta -> gradient dict)": lambda: unit.assembler.split(theta)}
    times = {name: [] for name in parts}
    for _ in range(rounds):
        for name, f in parts.items():
            start = time.process_time()
            f()
            times[name].append(time.process_time() - start)
    print(f"{units} units unit by unit ({unit.num_params} parameters), B={batch}, T={steps}: " +
          ", ".join(f"{name} {np.median(t) * 1e3:.2f} ms" for name, t in times.items()))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args(argv)
    try:
        from threadpoolctl import threadpool_info
        print("BLAS: " + "; ".join(f"{i['internal_api']} {i.get('version')} kernel {i.get('architecture')}, "
                                   f"{i['num_threads']} thread(s)" for i in threadpool_info()))
    except ImportError:
        print("BLAS: (pip install threadpoolctl to see which kernel runs)")
    for I, H, B, T in [(8, 32, 16, 50), (32, 128, 32, 100), (64, 256, 64, 100), (8, 8, 1, 200)]:
        profile(f"LSTM ({I},{H},{B},{T})", gr.loads(lstm_yaml(I, H)), T, B, args.rounds)
        print(f"    its matrix products alone, numpy / PyTorch (float64): {gemm_peers(I, H, B, T, args.rounds)}")
    for I, H, B, T in [(8, 32, 16, 50), (32, 128, 32, 100)]:
        profile(f"GRU  ({I},{H},{B},{T})", gr.loads(stack_spec("gru", I, H)), T, B, args.rounds)
    unit_level(args.rounds)


if __name__ == "__main__":
    main()
