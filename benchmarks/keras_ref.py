"""Reference rows: the trained Keras model, timed in the same benchmark run as the exported files.

The Keras model is rebuilt from the bundle's run folder (``manifest.training.run_dir``) by
the task spec's ``load_model`` in a separate process per thread setting, because
TensorFlow fixes its thread pools when it starts and because importing it must not disturb the
runtime's measurements (nor its cold-start and memory figures). Two rows per thread setting:

* ``keras_predict`` -- ``model.predict(x, verbose=0)``: Keras' batch loop (``tf.function``, data
  adapter, callbacks), what a notebook user calls;
* ``keras_call``    -- ``model(x, training=False)``: a direct eager call (no tracing; the LSTM's
  time loop then runs op by op, which makes it slow for this model);
* ``keras_graph``   -- not asked for by the two above, but the fair best case for TensorFlow:
  ``tf.function(model)`` traced once with a free batch and time axis (``[None, None, F]``), so
  every call runs the compiled graph. Speed-ups over Keras are shown against all three rows.

All run at batch 1 on the same drawings, at their own lengths, as the runtime's ``invoke`` row,
and on the same padded batches of 32. The process also reports its own cold start (importing
TensorFlow, rebuilding the model, first call) and peak memory, and (once) the Keras outputs on
the test rows, the float32 reference for accuracy.

Run as ``python -m inkcast.benchmarks.keras_ref SPEC.json``; the parent is ``run_keras_reference``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

import numpy as np

from inkcast.data.rows import load_rows, save_rows

from .stats import summarize


def _save_rows(path: Path, rows: list[np.ndarray]) -> None:
    save_rows(path, rows, np.zeros(len(rows), np.int64), [""] * len(rows))


def _load_rows(path: Path) -> list[np.ndarray]:
    return load_rows(path)[0]


def child_main(spec_path: str) -> int:
    t0 = time.perf_counter()
    spec = json.loads(Path(spec_path).read_text())
    n_threads = int(spec["num_threads"])
    from inkcast.training.tf_env import keras, tf  # noqa: F401  (sets TF_USE_LEGACY_KERAS)

    tf.config.threading.set_intra_op_parallelism_threads(n_threads)
    tf.config.threading.set_inter_op_parallelism_threads(n_threads)
    t1 = time.perf_counter()
    from inkcast.runtime.sketch_preprocess import pad_left
    from inkcast.tasks import spec_for

    task = spec_for(spec.get("task", "sketch"))
    model = task.load_model(spec["run_dir"])
    t2 = time.perf_counter()
    rows = _load_rows(Path(spec["rows"]))
    order = np.asarray(spec["order"], dtype=np.int64)
    model(rows[order[0]][None], training=False)
    t3 = time.perf_counter()
    from .machine import proc_status_mb

    cold = {"import_ms": (t1 - t0) * 1e3, "load_ms": (t2 - t1) * 1e3, "first_prediction_ms": (t3 - t2) * 1e3,
            "in_process_ms": (t3 - t0) * 1e3}

    def sl(r: int, count: int) -> np.ndarray:
        n = len(order)
        return order[((r * count) + np.arange(count)) % n]

    call = lambda x: model(x, training=False)  # noqa: E731
    pred = lambda x: model.predict(x, verbose=0, batch_size=len(x))  # noqa: E731
    fixed = len({len(r) for r in rows}) == 1  # the forecaster's window: one length for all
    graph = tf.function(lambda x: model(x, training=False),
                        input_signature=[tf.TensorSpec([None, len(rows[0]) if fixed else None, rows[0].shape[1]],
                                                       tf.float32)])
    # warm-up: several lengths, so tf.function's retracing for new shapes is done before timing
    for i in sl(0, spec["warmup"]):
        call(rows[i][None])
        pred(rows[i][None])
        graph(rows[i][None])
    for b in sl(1, 2 * spec["batch_size"]).reshape(2, -1):  # and two batch shapes
        x = pad_left([rows[i] for i in b])
        call(x), pred(x), graph(x)
    samples: dict[str, list[list[int]]] = {k: [] for k in ("keras_call", "keras_predict", "keras_graph",
                                                         "keras_call_batch", "keras_predict_batch",
                                                         "keras_graph_batch")}
    clock = time.perf_counter_ns
    for r in range(spec["rounds"]):
        for kind, fn, count in (("keras_call", call, spec["per_round"]), ("keras_predict", pred, spec["per_round_predict"]),
                                ("keras_graph", graph, spec["per_round"])):
            s = []
            for i in sl(r, count):
                x = rows[i][None]
                a = clock()
                fn(x)
                s.append(clock() - a)
            samples[kind].append(s)
        bidx = sl(r, spec["batches_per_round"] * spec["batch_size"]).reshape(spec["batches_per_round"], -1)
        for kind, fn in (("keras_call_batch", call), ("keras_predict_batch", pred), ("keras_graph_batch", graph)):
            s = []
            for b in bidx:
                x = pad_left([rows[i] for i in b])
                a = clock()
                fn(x)
                s.append(clock() - a)
            samples[kind].append(s)
    out = {"cold_start": cold, "num_threads": n_threads,
           "samples": samples, "lengths": [int(len(rows[i])) for r in range(spec["rounds"])
                                           for i in sl(r, spec["per_round"])]}
    if spec.get("outputs"):  # raw model outputs on every accuracy row, for the accuracy reference
        raw = task.keras_outputs(model, _load_rows(Path(spec["accuracy_rows"])))
        np.save(spec["outputs"], raw)
    out["cold_start"]["peak_rss_mb"] = proc_status_mb("VmHWM")
    Path(spec["result"]).write_text(json.dumps(out))
    return 0


def run_keras_reference(bundle, inputs, order: np.ndarray, thread_settings: list[tuple[str, int]], plan: dict,
                        progress: Callable[[str], None] = lambda s: None, timeout: float = 900.0,
                        outputs_rows: list[np.ndarray] | None = None) -> dict:
    """Run the Keras child once per thread setting. Returns ``{"threads": {label: rows}, "outputs": probs}``.

    Raises ``RuntimeError`` (with the child's stderr) if the run folder or TensorFlow is missing."""
    run_dir = (bundle.manifest.get("training") or {}).get("run_dir")
    if not run_dir or not Path(run_dir).is_dir() or not any(Path(run_dir).glob("*.h5")):
        raise RuntimeError(f"the bundle's run folder ({run_dir}) with the model's weights is not available")
    result: dict = {"threads": {}, "outputs": None}
    with tempfile.TemporaryDirectory(prefix="inkcast-keras-") as tmp:
        tmp = Path(tmp)
        _save_rows(tmp / "rows.npz", inputs.rows)
        _save_rows(tmp / "accuracy_rows.npz", outputs_rows if outputs_rows is not None else inputs.rows)
        for k, (label, n) in enumerate(thread_settings):
            spec = {"run_dir": str(run_dir), "task": bundle.task, "num_threads": n, "rows": str(tmp / "rows.npz"),
                    "accuracy_rows": str(tmp / "accuracy_rows.npz"),
                    "order": order.tolist(), "result": str(tmp / f"result-{label}.json"),
                    "outputs": str(tmp / "outputs.npy") if k == 0 else None, **plan}
            (tmp / "spec.json").write_text(json.dumps(spec))
            env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", TF_USE_LEGACY_KERAS="1")
            t0 = time.perf_counter()
            progress(f"Keras reference, threads={label} ({n}): starting TensorFlow in a fresh process ...")
            p = subprocess.run([sys.executable, "-m", "inkcast.benchmarks.keras_ref", str(tmp / "spec.json")],
                               capture_output=True, text=True, timeout=timeout, env=env)
            wall = (time.perf_counter() - t0) * 1e3
            if p.returncode != 0:
                raise RuntimeError(f"the Keras reference process failed (exit {p.returncode}): {p.stderr.strip()[-2000:]}")
            res = json.loads((tmp / f"result-{label}.json").read_text())
            rows = {kind: summarize([x for r in rounds for x in r], rounds) for kind, rounds in res["samples"].items()}
            rows["cold_start"] = dict(res["cold_start"], process_ms=wall)
            rows["num_threads"] = n
            rows["_samples"] = res["samples"]
            rows["_lengths"] = res["lengths"]
            result["threads"][label] = rows
            progress(f"Keras reference, threads={label}: done in {wall / 1e3:.0f} s")
        if (tmp / "outputs.npy").is_file():
            result["outputs"] = np.load(tmp / "outputs.npy")
    return result


if __name__ == "__main__":
    sys.exit(child_main(sys.argv[1]))
