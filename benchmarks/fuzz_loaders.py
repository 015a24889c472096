"""Fuzz every loader with mutated shipped files, each input in a worker with time and memory limits.

    OMP_NUM_THREADS=1 python benchmarks/fuzz_loaders.py --inputs 100000 --workers 2

prints, per loader: inputs, unhandled exceptions (anything but a GraphRNNError
with a code, a location and a fix), MemoryError, inputs over the soft time
limit (2 s) by the wall clock and by the worker's CPU clock (which a busy
machine does not inflate), the slowest input by each, and the first
examples of each failure (seed and message), so
one can be replayed with ``--replay LOADER SEED``. Inputs are generated in
the workers from (loader, seed) by tests/fuzz/loaders.py's ``mutate_for`` with
``random.Random(seed)``; a worker runs under ``resource.setrlimit`` (address
space, default 3 GiB) and is killed and replaced past the hard time limit.
A worker loads each loader's first shipped file before it times anything, so
one-time costs of a process (imports, numba's start-up: about 1.5 s) are not
counted against the first input of each kind.  ``--slow-log FILE`` writes
every input over the soft limit by either clock (loader, seed, seconds, outcome) to replay.
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import random
import selectors
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve()
sys.path.insert(0, str(HERE.parents[1] / "tests" / "fuzz"))


def make_input(loader: str, seed: int) -> str:
    import loaders
    rng = random.Random(f"{loader}:{seed}")
    texts = loaders.seeds()[loader]
    return loaders.mutate_for(loader, texts[rng.randrange(len(texts))], rng.randrange)


def worker(memory_bytes: int) -> None:
    """Read `loader<TAB>seed` lines; answer one JSON line each: outcome, seconds, message."""
    import resource
    import warnings
    warnings.simplefilter("ignore")
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    import loaders
    loaders.warm_up()
    print("ready", flush=True)
    for line in sys.stdin:
        loader, seed = line.rstrip("\n").split("\t")
        text = make_input(loader, int(seed))
        start, cpu = time.perf_counter(), time.process_time()
        try:
            err = loaders.check_rule(loader, text)
            outcome, message = "ok", f"{err.code}: {err}" if err is not None else "loaded"
        except MemoryError:
            outcome, message = "memory", "MemoryError"
        except AssertionError as err:      # a GraphRNNError without code, location or fix
            outcome, message = "unhandled", f"incomplete error: {err}"
        except BaseException as err:       # noqa: BLE001 (the point is to catch everything)
            outcome, message = "unhandled", f"{type(err).__name__}: {err}"
        print(json.dumps({"outcome": outcome, "seconds": time.perf_counter() - start,
                          "cpu": time.process_time() - cpu, "message": message[:300]}), flush=True)


class Worker:
    def __init__(self, memory_bytes: int):
        # graphrnn's own budget (plan/limits.py) below the hard cap, as a user with that much memory sets it
        env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1",
                   GRAPHRNN_MEMORY_LIMIT=os.environ.get("GRAPHRNN_MEMORY_LIMIT", str(memory_bytes // 2)))
        self.proc = subprocess.Popen([sys.executable, str(HERE), "--worker", str(memory_bytes)], env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        if self.proc.stdout.readline().strip() != "ready":    # warmed up: the hard limit counts from here
            raise RuntimeError("a fuzz worker did not start (run one input with --replay to see why)")
        self.job = None
        self.started = 0.0

    def send(self, job) -> None:
        self.job, self.started = job, time.perf_counter()
        self.proc.stdin.write(f"{job[0]}\t{job[1]}\n")
        self.proc.stdin.flush()

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait()


def run(jobs, workers: int, memory_bytes: int, soft: float, hard: float, seconds: float = float("inf"),
        slow_log=None):
    table = collections.defaultdict(collections.Counter)
    examples = collections.defaultdict(list)
    slowest, slowest_cpu = collections.Counter(), collections.Counter()
    pending = list(reversed(jobs))
    selector = selectors.DefaultSelector()
    pool = []

    def start():
        w = Worker(memory_bytes)
        selector.register(w.proc.stdout, selectors.EVENT_READ, w)
        pool.append(w)
        if pending:
            w.send(pending.pop())
        return w

    def record(job, outcome, seconds, message, cpu=None):
        loader, seed = job
        table[loader]["inputs"] += 1
        table[loader][outcome] += 1
        cpu_seconds = seconds if cpu is None else cpu      # a killed or dead worker: its wall time
        table[loader]["over"] += seconds > soft
        table[loader]["over_cpu"] += cpu_seconds > soft
        slowest[loader] = max(slowest[loader], seconds)
        slowest_cpu[loader] = max(slowest_cpu[loader], cpu_seconds)
        if max(seconds, cpu_seconds) > soft:
            outcome = "over" if outcome == "ok" else outcome
            if slow_log is not None:    # every slow input, to replay one by one (--replay LOADER SEED)
                slow_log.write(json.dumps({"loader": loader, "seed": seed, "seconds": round(seconds, 2),
                                           "cpu": cpu and round(cpu, 2), "message": message[:300]}) + "\n")
                slow_log.flush()
        if outcome != "ok" and len(examples[loader, outcome]) < 5:
            examples[loader, outcome].append(f"seed {seed} ({seconds:.1f} s" + (f", {cpu:.1f} s CPU" if cpu else "")
                                             + f"): {message}")

    for _ in range(min(workers, len(jobs))):
        start()
    done, last, deadline = 0, time.time(), time.time() + seconds
    while any(w.job is not None for w in pool):
        if time.time() > deadline and pending:   # out of time: finish the inputs in flight, start no more
            print(f"  time is up after {done} inputs", file=sys.stderr, flush=True)
            pending.clear()
        for key, _ in selector.select(timeout=0.5):
            w = key.data
            line = w.proc.stdout.readline()
            if not line:                      # the worker died (a hard crash): count it, replace it
                record(w.job, "unhandled", time.perf_counter() - w.started, "worker died")
                selector.unregister(w.proc.stdout)
                pool.remove(w)
                w.kill()
                start()
                continue
            answer = json.loads(line)
            record(w.job, answer["outcome"], answer["seconds"], answer["message"], answer["cpu"])
            done += 1
            w.job = None
            if pending:
                w.send(pending.pop())
        for w in list(pool):
            if w.job is not None and time.perf_counter() - w.started > hard:
                record(w.job, "ok", hard, f"killed after {hard} s")
                selector.unregister(w.proc.stdout)
                pool.remove(w)
                w.kill()
                start()
        if time.time() - last > 30:
            last = time.time()
            print(f"  ... {done}/{len(jobs)}", file=sys.stderr, flush=True)
    for w in pool:
        w.proc.stdin.close()
        w.kill()
    for loader in table:
        table[loader]["slowest"], table[loader]["slowest_cpu"] = slowest[loader], slowest_cpu[loader]
    return table, examples


def main(argv=None) -> int:
    import loaders
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", type=int, default=1000, help="inputs per loader")
    parser.add_argument("--loaders", nargs="*", default=list(loaders.LOADERS), help="which loaders")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--memory-gib", type=float, default=3.0)
    parser.add_argument("--soft", type=float, default=2.0, help="seconds counted as `over`")
    parser.add_argument("--hard", type=float, default=20.0, help="seconds before a worker is killed")
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--minutes", type=float, default=float("inf"),
                        help="stop starting inputs after this long and print what was run")
    parser.add_argument("--replay", nargs=2, metavar=("LOADER", "SEED"))
    parser.add_argument("--slow-log", type=argparse.FileType("w"), metavar="FILE",
                        help="write every input over the soft limit to FILE, a JSON line each")
    args = parser.parse_args(argv)
    if args.replay:
        text = make_input(args.replay[0], int(args.replay[1]))
        print(repr(text[:2000]))
        start = time.perf_counter()
        err = loaders.check_rule(args.replay[0], text)
        print(f"{time.perf_counter() - start:.2f} s: " + (f"{err.code}: {err}" if err else "loaded"))
        return 0
    jobs = [(name, args.first_seed + i) for i in range(args.inputs) for name in args.loaders]
    start, load_before = time.time(), os.getloadavg()[0]
    table, examples = run(jobs, args.workers, int(args.memory_gib * 2 ** 30), args.soft, args.hard,
                          args.minutes * 60, slow_log=args.slow_log)
    print(f"\n{sum(row['inputs'] for row in table.values())} inputs in {time.time() - start:.0f} s, {args.workers} workers, "
          f"{args.memory_gib} GiB each, soft limit {args.soft} s, hard {args.hard} s, "
          f"load average {load_before:.1f} at the start, {os.getloadavg()[0]:.1f} at the end\n")
    print(f"| loader | inputs | unhandled exceptions | MemoryError | over {args.soft:g} s | over {args.soft:g} s of CPU "
          "| slowest (s) | slowest (CPU s) |")
    print("|---|---|---|---|---|---|---|---|")
    for name in args.loaders:
        row = table[name]
        print(f"| {name} | {row['inputs']:,} | {row['unhandled']:,} | {row['memory']:,} | {row['over']:,} "
              f"| {row['over_cpu']:,} | {row['slowest']:.2f} | {row['slowest_cpu']:.2f} |")
    for (name, outcome), lines in sorted(examples.items()):
        print(f"\n{name}, {outcome}:")
        for line in lines:
            print("  " + line)
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--worker":
        worker(int(sys.argv[2]))
    else:
        sys.exit(main())
