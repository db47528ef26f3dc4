"""Latency and throughput of every (variant, thread setting), interleaved in rounds.

What is timed, per configuration, in each round:

* ``invoke``  -- the bare model call, ``backends.open_model(...).invoke_one(x)`` on one
  preprocessed drawing (1, T, 3) at its own length. For TFLite that is what the runtime does per
  sample: resize the input when the length changes, ``reset_all_variables`` (the fused LSTM keeps
  state between invokes; the reset is part of a correct prediction), set, invoke, get;
* ``predict`` -- the runtime's public path on the raw item, ``SketchRecognizer.predict(drawing)``:
  input checks, preprocessing, the model call and the top-k;
* ``batch``   -- 32 drawings: ONNX runs one call on a (32, T_max, 3) left-padded batch; TFLite
  runs 32 sequential invokes, each drawing at its own length, because its graph has batch 1;
* ``predict_batch`` -- the public ``predict_batch`` on the same 32 raw drawings.

Noise on a shared machine is handled by interleaving at a fine grain: a round's inputs are cut into
chunks of ``Plan.chunk`` (8) drawings, and each chunk runs on every configuration (order rotated
per chunk) before the next one, so all configurations see the same inputs and share each moment's
load; ratios are formed per round (``stats.ratio_over_rounds``), then summarized by their median.
Each chunk starts with one untimed call (a thread pool that slept while another configuration ran
wakes up again), and timing runs with the garbage collector paused. Two clocks are read around
every call: ``time.perf_counter_ns`` (wall time: the latency reported) and
``time.thread_time_ns`` (the calling thread's CPU time, used for the 1-thread gate figures).
"""

from __future__ import annotations

import gc
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from inkcast.runtime.sketch_preprocess import pad_left

KINDS = ("invoke", "predict", "batch", "predict_batch")


@dataclass
class Plan:
    """How much to measure."""

    rounds: int = 16
    per_round: int = 128  # batch-1 calls per configuration per round (invoke, and predict)
    batches_per_round: int = 2
    batch_size: int = 32
    chunk: int = 8  # batch-1 calls per configuration before switching to the next one
    initial_warmup: int = 30  # untimed calls per configuration before round 1


@dataclass
class Config:
    """One variant at one thread setting, with its two runtime objects opened."""

    variant: str
    backend: str
    threads: str  # label: "1" or "all"
    num_threads: int
    runtime: Any  # the public object (SketchRecognizer, Forecaster)
    model: Any  # the bare backend model the public object runs (its ``model``)
    samples: dict[str, list[list[int]]] = field(default_factory=dict)  # kind -> rounds -> wall ns
    cpu: dict[str, list[list[int]]] = field(default_factory=dict)  # kind -> rounds -> thread CPU ns
    lengths: list[int] = field(default_factory=list)  # input length of each invoke sample

    @property
    def key(self) -> str:
        return f"{self.variant}@{self.threads}"

    def fresh(self) -> "Config":
        """The same opened runtime objects, with no samples (for a confirmation run)."""
        return Config(self.variant, self.backend, self.threads, self.num_threads, self.runtime, self.model)


def open_config(task, bundle, variant: str, threads: str, num_threads: int) -> Config:
    rt = task.open_runtime(bundle.root, variant, num_threads)
    return Config(variant, rt.backend, threads, num_threads, rt, rt.model)


def _timed(fn: Callable[[Any], Any], items: list[Any], warmup: int) -> tuple[list[int], list[int]]:
    """Wall-clock and calling-thread CPU nanoseconds of ``fn(item)`` for each item, after
    ``warmup`` untimed calls on the first items. The CPU clock (``CLOCK_THREAD_CPUTIME_ID``) does
    not run while the thread waits to be scheduled: at 1 thread, where the whole model runs on the
    calling thread, it is immune to other processes taking the core."""
    for it in items[:warmup]:
        fn(it)
    wall, cpu = [], []
    clock, tclock = time.perf_counter_ns, time.thread_time_ns
    gc_was = gc.isenabled()
    gc.disable()
    try:
        for it in items:
            c0 = tclock()
            t0 = clock()
            fn(it)
            t1 = clock()
            c1 = tclock()
            wall.append(t1 - t0)
            cpu.append(c1 - c0)
    finally:
        if gc_was:
            gc.enable()
    return wall, cpu


def _rotate(xs: list, k: int) -> list:
    k %= max(len(xs), 1)
    return xs[k:] + xs[:k]


class LatencyBench:
    """Runs the rounds over a set of configurations; keeps every sample."""

    def __init__(self, task, inputs, configs: list[Config], plan: Plan, seed: int = 0,
                 progress: Callable[[str], None] = lambda s: None):
        self.task, self.inputs, self.configs, self.plan = task, inputs, configs, plan
        self.progress = progress
        n = len(inputs)
        self.order = np.random.default_rng(seed).permutation(n)  # mixed lengths in every slice
        self.rounds_done = 0

    def _slice(self, r: int, count: int) -> np.ndarray:
        n = len(self.order)
        start = (r * count) % n
        return self.order[(start + np.arange(count)) % n]

    def _batches(self, r: int) -> list[np.ndarray]:
        p = self.plan
        idx = self._slice(r, p.batches_per_round * p.batch_size)
        return [idx[i * p.batch_size : (i + 1) * p.batch_size] for i in range(p.batches_per_round)]

    def _batch_fn(self, c: Config) -> Callable[[Any], Any]:
        if c.backend == "tflite":  # batch 1 graph: sequential invokes at each drawing's own length
            return lambda b: [c.model.invoke_one(x) for x in b]
        return lambda b: c.model.run(b)  # one call on the left-padded batch

    def _batch_items(self, c: Config, batches: list[np.ndarray]) -> list[Any]:
        rows = self.inputs.rows
        if c.backend == "tflite":
            return [[rows[i][None] for i in b] for b in batches]
        return [pad_left([rows[i] for i in b]) for b in batches]

    def warmup(self) -> None:
        idx = self._slice(0, self.plan.initial_warmup)
        for c in self.configs:
            for i in idx:
                c.model.invoke_one(self.inputs.rows[i][None])
                self.task.predict(c.runtime, self.inputs.public[i])
            b = self._batches(0)[:1]
            self._batch_fn(c)(self._batch_items(c, b)[0])
            self.task.predict_batch(c.runtime, [self.inputs.public[i] for i in b[0]])

    def run_round(self, r: int, configs: list[Config] | None = None) -> None:
        """One round: the round's items in chunks; every chunk runs on every configuration (order
        rotated per chunk) before the next chunk, so all configurations share each moment's load."""
        configs = configs or self.configs
        p, rows, public = self.plan, self.inputs.rows, self.inputs.public
        idx = self._slice(r, p.per_round)
        for c in configs:
            for kind in KINDS:
                c.samples.setdefault(kind, []).append([])
                c.cpu.setdefault(kind, []).append([])
            c.lengths.extend(len(rows[i]) for i in idx)

        def record(c: Config, kind: str, res: tuple[list[int], list[int]]) -> None:
            c.samples[kind][-1].extend(res[0])
            c.cpu[kind][-1].extend(res[1])

        chunks = [idx[i : i + p.chunk] for i in range(0, len(idx), p.chunk)]
        for j, chunk in enumerate(chunks):
            for c in _rotate(configs, r + j):
                # one untimed call on the chunk's first item, then the chunk timed
                record(c, "invoke", _timed(c.model.invoke_one, [rows[i][None] for i in chunk], 1))
                record(c, "predict", _timed(lambda d: self.task.predict(c.runtime, d), [public[i] for i in chunk], 1))
        for b_i, b in enumerate(self._batches(r)):
            for c in _rotate(configs, r + b_i):
                c.model.invoke_one(rows[b[0]][None])  # untimed: wakes this configuration's thread pool
                record(c, "batch", _timed(self._batch_fn(c), self._batch_items(c, [b]), 0))
                record(c, "predict_batch", _timed(lambda d: self.task.predict_batch(c.runtime, d),
                                                  [[public[i] for i in b]], 0))

    def run(self, configs: list[Config] | None = None, first_round: int = 0, label: str = "latency") -> None:
        t0 = time.monotonic()
        if first_round == 0:
            self.warmup()
        for r in range(first_round, first_round + self.plan.rounds):
            self.run_round(r, configs)
            self.progress(f"{label} round {r - first_round + 1}/{self.plan.rounds} "
                          f"({len(configs or self.configs)} configurations, {time.monotonic() - t0:.0f} s)")
        self.rounds_done = first_round + self.plan.rounds

