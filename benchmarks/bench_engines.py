"""Engines, precision, unit-level planning, compile time and memory of graphrnn, in one run.

Run by hand:  python benchmarks/bench_engines.py [--repeats N] [--quick] [--threads N]

Every timing is one loss-and-gradient evaluation (forward and backward; mse)
unless a table says otherwise, measured in this process: each column is run
once as a warm-up, then the columns of a row are run in turn, ``--repeats``
times round (default 5; without ``--repeats``, fewer, 3 at least, in a
row whose warm-up says it would take over 40 s), and the median is printed
(taking the columns in turn spreads any load from other processes over all
of them).  A row marked ``*`` had a column whose interquartile range (with
fewer than 4 repeats: range) was over 25% of its median: the machine was
busy, rerun it.  Losses are checked equal before anything is timed.

1. The library `lstm` module as a one-layer network, on the fused and the
   autograd engine in float64 and float32, against a hand-written
   autograd.numpy LSTM, PyTorch nn.LSTM (float64, float32; same weights;
   ``--threads`` threads) and the BLAS floor (the matmuls alone, forward
   and backward).
2. A 64-unit fully recurrent net written at the unit level (64 size-1
   nodes, all-to-all delayed edges) vs the same function as one 64-unit node.
3. Compile time (YAML to a ready Network) of every network spec in specs/.
4. Peak memory (tracemalloc) of one loss+gradient of the `lstm` network
   against the sequence length T (full BPTT, and truncated BPTT with
   k1 = k2 = 50), and what a call leaves allocated.

``--quick`` runs only the smallest sizes, as a smoke test.  ``--threads``
sets the threads of numpy's BLAS (OpenBLAS, through ctypes) and of PyTorch
alike.  By default they get 2 (the machine's cores here) when the machine
is idle, and 1 when its 1-minute load average is 0.5 or more: on a machine
shared with other jobs, 2 BLAS threads on 2 cores make timings several
times slower and erratic (threads spin waiting for one another).
"""
from __future__ import annotations

import argparse
import gc
import os
import platform
import statistics
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import yaml
from autograd import value_and_grad

import graphrnn as gr
from graphrnn.train import methods

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_core import fully_recurrent_yaml  # noqa: E402
from lstm_baselines import hand_lstm, hand_params, lstm_yaml, torch_lstm  # noqa: E402

SPECS = Path(__file__).resolve().parent.parent / "specs"
LSTM_SIZES = [(8, 32, 16, 50), (32, 128, 32, 100), (64, 256, 64, 100), (8, 8, 1, 200)]
MEMORY_STEPS = [50, 100, 200, 400, 800]
NOISY = 0.25          # interquartile range / median above this marks a row with *
TOL64, TOL32 = 1e-9, 1e-5
NOISY_ROWS = 0
DEFAULT_REPEATS = 5
BUSY_LOAD = 0.5       # 1-minute load average from which the default is 1 thread, not 2
ROW_BUDGET = 40.0     # seconds; without --repeats, a row that would take longer gets fewer repeats


# -- timing ------------------------------------------------------------------------

def time_columns(columns: dict, repeats: int | None, check=None) -> tuple[dict, bool, int]:
    """({name: median seconds}, noisy, repeats used) of the callables in ``columns``, interleaved.

    Each column runs once as a warm-up; ``check`` gets those results
    ({name: return value}) before anything is timed.  ``repeats`` None:
    DEFAULT_REPEATS, cut (to 3 at least) where the warm-up says that the row
    would take more than ROW_BUDGET seconds.
    """
    start = time.perf_counter()
    results = {name: fn() for name, fn in columns.items()}
    warm = time.perf_counter() - start
    if check is not None:
        check(results)
    del results
    if repeats is None:
        repeats = DEFAULT_REPEATS
        if warm * repeats > ROW_BUDGET:
            repeats = max(3, int(ROW_BUDGET / warm))
    times = {name: [] for name in columns}
    for _ in range(repeats):
        for name, fn in columns.items():
            gc.collect()
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    medians = {name: statistics.median(ts) for name, ts in times.items()}
    noisy = any(spread(ts) > NOISY for ts in times.values())
    global NOISY_ROWS
    NOISY_ROWS += noisy
    return medians, noisy, repeats


def spread(ts) -> float:
    """Interquartile range over median of a list of timings; (max - min) / median for 2 or 3; 0 for 1."""
    if len(ts) < 2:
        return 0.0
    if len(ts) < 4:
        return (max(ts) - min(ts)) / statistics.median(ts)
    q1, _, q3 = statistics.quantiles(ts, n=4)
    return (q3 - q1) / statistics.median(ts)


def rel(a: float, b: float) -> float:
    return abs(a - b) / max(abs(b), 1e-300)


def check(label: str, value: float, reference: float, tol: float) -> None:
    if not rel(value, reference) <= tol:
        raise SystemExit(f"loss mismatch, {label}: {value!r} vs {reference!r} "
                         f"(relative {rel(value, reference):.2e} > {tol:.0e})")


def provenance() -> str:
    """Where graphrnn was imported from and, in a git checkout, its commit and whether the core is edited."""
    where = Path(gr.__file__).resolve().parent
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=where, capture_output=True,
                              text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "."], cwd=where, capture_output=True,
                               text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        head, dirty = "", ""
    return f"graphrnn from {where}" + (f" at {head}{' + uncommitted changes' if dirty else ''}" if head else "")


def _openblas():
    """numpy's OpenBLAS as a ctypes library (found among the loaded objects), or None."""
    import ctypes
    try:
        with open("/proc/self/maps") as maps:
            paths = sorted({line.split()[-1] for line in maps if "openblas" in line.lower() and "/" in line})
    except OSError:
        return None
    for path in paths:
        try:
            return ctypes.CDLL(path)
        except OSError:
            continue
    return None


def blas_threads(n: int | None = None) -> int | None:
    """Set (when ``n``) and return the thread count of numpy's OpenBLAS; None where it cannot be reached."""
    lib = _openblas()
    if lib is None:
        return None
    for prefix in ("scipy_openblas", "openblas"):
        for suffix in ("64_", "_64_", ""):
            get = getattr(lib, f"{prefix}_get_num_threads{suffix}", None)
            put = getattr(lib, f"{prefix}_set_num_threads{suffix}", None)
            if get is not None and put is not None:
                if n is not None:
                    put(int(n))
                return int(get())
    return None


def autograd_version() -> str:
    try:
        from importlib.metadata import version
        return version("autograd")
    except Exception:   # not installed as a distribution
        return "?"


def loadavg() -> str:
    try:
        return " ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        return "n/a"


# -- 1. LSTM ------------------------------------------------------------------------

def blas_floor(hp, x, dtype=np.float64):
    """A closure doing only the LSTM's matmuls, forward and backward, into preallocated outputs.

    Input projection over all T at once (T*B, I) @ (I, 4H); per step the
    recurrent product (B, H) @ (H, 4H), the error to h (B, 4H) @ (4H, H) and
    the recurrent weight gradient (H, B) @ (B, 4H); and the input weight
    gradient (I, T*B) @ (T*B, 4H).
    """
    T, B, I = x.shape
    H = hp["wh"].shape[0]
    rng = np.random.default_rng(0)
    flat = np.ascontiguousarray(x.reshape(-1, I), dtype=dtype)
    wx, wh = hp["wx"].astype(dtype), hp["wh"].astype(dtype)
    whT = np.ascontiguousarray(wh.T)
    h = rng.normal(size=(B, H)).astype(dtype)
    hT = np.ascontiguousarray(h.T)
    g = rng.normal(size=(B, 4 * H)).astype(dtype)
    g_all = rng.normal(size=(T * B, 4 * H)).astype(dtype)
    flatT = np.ascontiguousarray(flat.T)
    xs, a, g_h, g_wh, g_wx = (np.empty((T * B, 4 * H), dtype), np.empty((B, 4 * H), dtype),
                              np.empty((B, H), dtype), np.empty((H, 4 * H), dtype),
                              np.empty((I, 4 * H), dtype))

    def run():
        np.matmul(flat, wx, out=xs)
        for _ in range(T):
            np.matmul(h, wh, out=a)         # forward: recurrent product
            np.matmul(g, whT, out=g_h)      # backward: error to h_{t-1}
            np.matmul(hT, g, out=g_wh)      # backward: recurrent weight gradient
        np.matmul(flatT, g_all, out=g_wx)   # backward: input weight gradient
    return run


def lstm_table(sizes, repeats, torch) -> None:
    print("1. LSTM (library module `lstm`, one layer): loss+grad, median ms")
    cols = ["fused64", "fused32", "ag64", "ag32", "hand", "torch64", "torch32", "BLAS64"]
    ratios = ["f64/t64", "f32/t32", "BLAS/f64", "f64/hand"]
    print(f"   {'(I, H, B, T)':<19}" + "".join(f"{c:>9}" for c in cols) + "  " + "".join(f"{r:>9}" for r in ratios))
    rng = np.random.default_rng(0)
    notes = []
    for I, H, B, T in sizes:
        text = lstm_yaml(I, H)
        nets = {(e, d): gr.loads(text, engine=e, dtype=d)
                for e in ("fused", "autograd") for d in ("float64", "float32")}
        params = nets["fused", "float64"].init(seed=0)
        x = rng.normal(size=(T, B, I))
        target = rng.uniform(-0.5, 0.5, size=(T, B, H))
        hp = hand_params(params)
        written = value_and_grad(lambda p: hand_lstm(p, x, target))

        def graphrnn_column(net):
            return lambda: net.value_and_grad(params, x, target, kind="mse")

        columns = {"fused64": graphrnn_column(nets["fused", "float64"]),
                   "fused32": graphrnn_column(nets["fused", "float32"]),
                   "ag64": graphrnn_column(nets["autograd", "float64"]),
                   "ag32": graphrnn_column(nets["autograd", "float32"]),
                   "hand": lambda: written(hp)}
        if torch is not None:
            columns["torch64"] = torch_lstm(hp, x, target, torch.float64)
            columns["torch32"] = torch_lstm(hp, x, target, torch.float32)
        columns["BLAS64"] = blas_floor(hp, x)

        where = (I, H, B, T)
        agreement = {}

        def check_row(results):
            """Losses against fused float64 (1e-9 / 1e-5 relative), and fused vs autograd float64 gradients."""
            reference, g_ref = results["fused64"]
            for label, tol in [("ag64", TOL64), ("hand", TOL64), ("torch64", TOL64),
                               ("fused32", TOL32), ("ag32", TOL32), ("torch32", TOL32)]:
                if label in results:
                    got = results[label]
                    got = float(got[0] if isinstance(got, tuple) else got)
                    check(f"{label} at {where}", got, float(reference), tol)
                    agreement[label[-2:]] = max(agreement.get(label[-2:], 0.0), rel(got, float(reference)))
            g_ag = results["ag64"][1]
            scale = max(float(np.max(np.abs(g))) for g in g_ref.values())
            agreement["grad"] = max(float(np.max(np.abs(g_ref[k] - g_ag[k]))) for k in g_ref) / scale
            if agreement["grad"] > 1e-8:
                raise SystemExit(f"fused and autograd float64 gradients differ at {where}: {agreement['grad']:.2e}")

        t, noisy, used = time_columns(columns, repeats, check_row)
        nan = float("nan")
        f64, f32 = t["fused64"], t["fused32"]
        row = [t.get(c, nan) * 1e3 for c in cols]
        rs = [f64 / t.get("torch64", nan), f32 / t.get("torch32", nan), t["BLAS64"] / f64, f64 / t["hand"]]
        print(f" {'*' if noisy else ' '} {str((I, H, B, T)):<19}" + "".join(f"{v:>9.1f}" for v in row)
              + "  " + "".join(f"{v:>9.2f}" for v in rs)
              + (f"  (repeats {used})" if used != (repeats or DEFAULT_REPEATS) else ""), flush=True)
        notes.append(f"   {str(where):<19} {agreement['64']:>9.1e} {agreement['32']:>9.1e} {agreement['grad']:>10.1e}")
    print("   fused/ag = graphrnn engines, 64/32 = dtype; hand = hand-written autograd.numpy LSTM;")
    print("   BLAS64 = the float64 matmuls alone (input projection, per-step recurrent product,")
    print("   error-to-h and weight-gradient products, input weight gradient); BLAS/f64 = the fraction")
    print("   of that floor's speed the fused engine reaches. torch: nn.LSTM; threads as in the header.")
    if torch is None:
        print("   PyTorch is not installed: its columns are nan (pip install torch==2.13.0).")
    print("   Checked before timing, largest relative difference from the fused float64 loss, and largest")
    print("   fused-vs-autograd float64 gradient difference over the largest gradient entry:")
    print(f"   {'(I, H, B, T)':<19} {'loss 64':>9} {'loss 32':>9} {'gradient':>10}")
    print("\n".join(notes))


# -- 2. unit level vs one node ----------------------------------------------------------

def one_node_yaml(units: int, inputs: int = 2) -> str:
    """The unit-level net's function as one `units`-wide node; y = its first two units (fixed edge)."""
    select = ", ".join("[" + ", ".join("1" if r == c else "0" for c in range(2)) + "]" for r in range(units))
    return f"""graphrnn: 1
name: one_node_{units}
inputs: {{x: {inputs}}}
outputs: {{y: 2}}
nodes:
  h: {{size: {units}, activation: sigmoid}}
  y: {{size: 2, bias: false}}
edges:
  - {{from: x, to: h}}
  - {{from: h, to: h, delay: 1, init: {{uniform: 0.25}}}}
  - {{from: h, to: y, kind: fixed, weights: [{select}]}}
"""


def unit_to_node(unit_params, node_params, units: int) -> dict:
    names = [f"u{i}" for i in range(1, units + 1)]
    out = dict(node_params)
    out["h->h@1"] = np.array([[unit_params[f"{a}->{b}@1"][0, 0] for b in names] for a in names])
    out["x->h"] = np.concatenate([unit_params[f"x->{b}"] for b in names], axis=1)
    out["h.bias"] = np.concatenate([unit_params[f"{n}.bias"] for n in names])
    return out


def unit_table(repeats, units=64, batch=8, steps=50) -> None:
    print(f"\n2. Unit level vs one node: fully recurrent, {units} sigmoid units, B={batch}, T={steps}, "
          "fused float64, loss+grad, median ms")
    unit_net = gr.loads(fully_recurrent_yaml(units))
    node_net = gr.loads(one_node_yaml(units))
    up = unit_net.init(seed=0)
    npar = unit_to_node(up, node_net.init(seed=0), units)
    rng = np.random.default_rng(1)
    x = rng.normal(size=(steps, batch, 2))
    target = rng.uniform(size=(steps, batch, 2))
    losses = {}

    def check_row(results):
        losses.update({name: float(value[0]) for name, value in results.items()})
        check("unit level vs one node", losses["unit"], losses["node"], TOL64)

    t, noisy, _ = time_columns({"unit": lambda: unit_net.value_and_grad(up, x, target),
                                "node": lambda: node_net.value_and_grad(npar, x, target)}, repeats, check_row)
    a, b = losses["unit"], losses["node"]
    print(f"   {'net':<44}{'ms':>9}{'params':>9}")
    print(f"   {f'unit level: {units} size-1 nodes, {units * units} delayed edges':<44}"
          f"{t['unit'] * 1e3:>9.2f}{unit_net.num_params:>9}")
    print(f"   {f'one node: h size {units}, dense self-edge, y = h[:2]':<44}"
          f"{t['node'] * 1e3:>9.2f}{node_net.num_params:>9}")
    print(f" {'*' if noisy else ' '} ratio unit-level / one-node: {t['unit'] / t['node']:.2f}"
          f"   (losses agree to {rel(float(a), float(b)):.1e} relative)")
    print("   one-node's y is a fixed (untrained) 64x2 selection edge: one extra sequence-stage")
    print("   product, so a ratio near 1 means the planner made the unit-level net one 64-unit block.")


# -- 3. compile time ------------------------------------------------------------------

def network_specs() -> list[Path]:
    """The files in specs/ that are networks (top-level name:/inputs:, no module:)."""
    found = []
    for path in sorted(SPECS.glob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        if isinstance(doc, dict) and "module" not in doc and ("inputs" in doc or "name" in doc):
            found.append(path)
    return found


def compile_table(loads: int) -> None:
    print(f"\n3. Compile time: YAML to a ready Network (read, expand, check, plan, emit), fused engine, "
          f"median of {loads} loads")
    print(f"   {'spec':<40}{'ms':>9}{'nodes':>8}{'edges':>8}{'params':>9}")
    items = [(p.stem, lambda p=p: gr.load(p)) for p in network_specs()]
    text = fully_recurrent_yaml(64)
    items.append(("fully_recurrent 64 units (generated text)", lambda: gr.loads(text)))
    for name, build in items:
        net = build()
        times = []
        for _ in range(loads):
            gc.collect()
            start = time.perf_counter()
            build()
            times.append(time.perf_counter() - start)
        print(f"   {name:<40}{statistics.median(times) * 1e3:>9.1f}{len(net.ir.nodes):>8}"
              f"{len(net.ir.edges):>8}{net.num_params:>9}", flush=True)
    print("   nodes/edges: the expanded primitive graph (modules inlined, edge lists multiplied out).")


# -- 4. memory ------------------------------------------------------------------------

def peak_mb(fn) -> tuple[float, float]:
    """(peak, kept): MB traced during one call of ``fn`` at its peak, and still held after it.

    Both count only what the call allocated.  ``kept`` is measured after the
    result is dropped and a garbage collection: anything there is held by
    someone else (a cache or a leak), and should be 0.
    """
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    result = fn()
    peak = tracemalloc.get_traced_memory()[1] - base
    del result
    gc.collect()
    kept = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    return peak / 2 ** 20, kept / 2 ** 20


def tbptt_available(net, params, x, target, window) -> bool:
    try:
        methods.value_and_grad(net, params, x, target, kind="mse", method="tbptt", k1=window, k2=window)
    except gr.GraphRNNError:
        return False
    return True


def memory_table(steps_list, hidden=64, batch=16, inputs=8, window=50) -> None:
    print(f"\n4. Peak memory of one loss+grad (tracemalloc): `lstm` network, I={inputs} H={hidden} B={batch}, "
          "fused float64")
    net = gr.loads(lstm_yaml(inputs, hidden))
    params = net.init(seed=0)
    unit = batch * hidden * 8 / 2 ** 20     # one (B, H) float64 array, MB
    rng = np.random.default_rng(2)
    x0, t0 = rng.normal(size=(2 * window, batch, inputs)), rng.uniform(-0.5, 0.5, size=(2 * window, batch, hidden))
    tbptt = tbptt_available(net, params, x0, t0, window)
    head = f"   {'T':>5}{'BPTT MB':>10}{'MB/step':>10}{'(B,H) arrays/step':>19}{'marginal MB/step':>18}{'kept MB':>9}"
    print(head + (f"{f'TBPTT k1=k2={window} MB':>22}{'kept MB':>9}" if tbptt else ""))
    previous = None
    for T in steps_list:
        x = rng.normal(size=(T, batch, inputs))
        target = rng.uniform(-0.5, 0.5, size=(T, batch, hidden))
        net.value_and_grad(params, x, target)      # warm-up, untraced
        peak, kept = peak_mb(lambda: net.value_and_grad(params, x, target))
        marginal = f"{(peak - previous[1]) / (T - previous[0]):>18.3f}" if previous else f"{'':>18}"
        line = f"   {T:>5}{peak:>10.1f}{peak / T:>10.3f}{peak / T / unit:>19.1f}{marginal}{kept:>9.1f}"
        if tbptt:
            t_peak, t_kept = peak_mb(lambda: methods.value_and_grad(net, params, x, target, method="tbptt",
                                                                    k1=window, k2=window))
            line += f"{t_peak:>22.1f}{t_kept:>9.1f}"
        print(line, flush=True)
        previous = (T, peak)
    print("   Peak is above the inputs and parameters, which exist before the call. MB/step near")
    print("   constant = memory linear in T: full BPTT keeps every step's values for the backward pass.")
    print("   kept MB: still allocated after the call returned and its result was dropped; should be 0")
    print("   (more than 0 means something holds on to the run's arrays: a leak that grows with every call).")
    if tbptt:
        print(f"   TBPTT: graphrnn.train.methods.value_and_grad(net, ..., method='tbptt', k1={window}, "
              f"k2={window}); its peak should")
        print("   not grow with T.")
    else:
        print("   Truncated BPTT (memory bounded in T) cannot run this network (a node kind with state).")


# -- main ---------------------------------------------------------------------------

def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=None,
                        help=f"timed runs per column, the median is printed (default {DEFAULT_REPEATS}, "
                             f"fewer, 3 at least, in a row that would take over {ROW_BUDGET:.0f} s)")
    parser.add_argument("--quick", action="store_true", help="smallest sizes only (smoke run)")
    parser.add_argument("--threads", type=int, default=None,
                        help="threads of numpy's BLAS and of PyTorch (default: 2 when the machine is idle, "
                             f"1 when its 1-minute load average is {BUSY_LOAD} or more)")
    args = parser.parse_args(argv)
    repeats = None if args.repeats is None else max(1, args.repeats)
    threads, why = args.threads, "--threads"
    if threads is None:
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
        threads = 1 if load >= BUSY_LOAD else 2
        why = (f"auto: 1-minute load average {load:.2f} {'>=' if threads == 1 else '<'} {BUSY_LOAD}; "
               "--threads N to choose")
    np.ones((2, 2)) @ np.ones((2, 2))          # load the BLAS library, so that it can be found
    numpy_threads = blas_threads(threads)
    try:
        import torch
        torch.set_num_threads(threads)
    except ImportError:
        torch = None
    begin = time.perf_counter()
    print(f"graphrnn {gr.__version__}, numpy {np.__version__}, autograd "
          f"{autograd_version()}, torch {torch.__version__ if torch else 'absent'}, "
          f"python {platform.python_version()}, {os.cpu_count()} cpus")
    print(provenance())
    print(f"threads: numpy BLAS {numpy_threads if numpy_threads else 'unknown (not OpenBLAS; set its env variable)'}"
          f", torch {torch.get_num_threads() if torch else '-'} ({why})")
    print(f"repeats {repeats or f'{DEFAULT_REPEATS} (fewer in a row over {ROW_BUDGET:.0f} s)'}"
          f"{', quick' if args.quick else ''}; load average at start {loadavg()}\n")
    lstm_table(LSTM_SIZES[:1] if args.quick else LSTM_SIZES, repeats, torch)
    unit_table(repeats)
    compile_table(3 if args.quick else 5)
    memory_table(MEMORY_STEPS[:2] if args.quick else MEMORY_STEPS)
    print(f"\nload average at end {loadavg()}; total {time.perf_counter() - begin:.0f} s")
    if NOISY_ROWS:
        print(f"{NOISY_ROWS} row(s) marked *: timings were unsteady (machine busy?); rerun"
              + (", or try --threads 1" if threads > 1 else ""))


if __name__ == "__main__":
    main()
