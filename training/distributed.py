"""Multi-worker training on TensorFlow's own engine: ``MultiWorkerMirroredStrategy`` from ``TF_CONFIG``.

Every worker runs the same command; ``TF_CONFIG`` (set by a scheduler, or by ``--local-workers``)
tells each the cluster and its index. Worker 0 is the chief: it alone writes the run folder. The
global batch (``--batch-size``) is split evenly over the workers, and each worker reads its own
shard files of the prepared dataset (TFDS's ``ReadConfig(input_context=...)``: files i, i + N,
...). All workers must run the same number of steps, so an epoch is the smallest worker's count
of batches (a few batches of the larger shards wait for the next epoch's order). Keras's
``BackupAndRestore`` keeps the training state after every epoch under ``RUN/backup`` (the chief's;
the others write to their own temporary folders inside it and remove them), and a restarted
cluster goes on from there.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

from inkcast.runtime.errors import BadInputError

from .sketch_data import batches_in


@dataclass(frozen=True)
class Cluster:
    """This process's place in a TF_CONFIG cluster."""

    workers: int
    index: int

    @property
    def is_chief(self) -> bool:
        return self.index == 0


def cluster_from_env() -> Cluster | None:
    """The cluster ``TF_CONFIG`` describes, or None for a single process (no TF_CONFIG, or one
    worker). Only workers are supported: no parameter servers, no evaluator."""
    raw = os.environ.get("TF_CONFIG")
    if not raw:
        return None
    try:
        cfg = json.loads(raw)
        workers = cfg["cluster"]["worker"]
        task = cfg["task"]
    except (ValueError, KeyError, TypeError) as e:
        raise BadInputError(f"TF_CONFIG is not a cluster description ({e}): {raw[:200]}") from None
    extra = sorted(set(cfg["cluster"]) - {"worker", "chief"})
    if extra or "chief" in cfg["cluster"] or task.get("type") != "worker":
        raise BadInputError(f"TF_CONFIG: only a cluster of workers is supported (worker 0 is the chief), got "
                            f"{sorted(cfg['cluster'])} and task {task}")
    index = int(task.get("index", 0))
    if not 0 <= index < len(workers):
        raise BadInputError(f"TF_CONFIG: task index {index} is not one of the {len(workers)} workers")
    return None if len(workers) == 1 else Cluster(len(workers), index)


def make_strategy() -> Any:
    """``MultiWorkerMirroredStrategy`` for this process's TF_CONFIG (collectives over gRPC, ring
    all-reduce: the same on any CPU cluster)."""
    from .tf_env import tf

    options = tf.distribute.experimental.CommunicationOptions(
        implementation=tf.distribute.experimental.CommunicationImplementation.RING)
    return tf.distribute.MultiWorkerMirroredStrategy(communication_options=options)


def steps_per_worker(shard_lengths: list[int], workers: int, pool_size: int, batch: int) -> int:
    """An epoch's steps: the fewest batches any worker's shard files give (each worker reads
    files i, i + workers, ...)."""
    if len(shard_lengths) < workers:
        raise BadInputError(f"the split has {len(shard_lengths)} shard files for {workers} workers: prepare it "
                            "with at least as many shards (inkcast data prepare --shards)")
    return min(batches_in(sum(shard_lengths[w::workers]), pool_size, batch) for w in range(workers))
