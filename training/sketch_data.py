"""Where training drawings come from: a folder read into memory, or a prepared TFDS dataset streamed.

Both give the trainer the same things: the category names, the split sizes, and *pools* of
drawings (absolute points, model rows, labels, key_ids) in a canonical order -- (label, position
in the category file), the order the in-memory reader keeps. The in-memory source has one pool
per split. The streaming source reads ``quickdraw_strokes`` (``inkcast data prepare``) with
``tf.data`` and hands out pools of at most ``pool_size`` drawings: training pools come from the
split's shards in a shuffled order through a shuffle buffer of a pool's size (a new order every
epoch, from the seed), so memory stays at about two pools whatever the dataset's size. When a pool holds the whole split, it is exactly the in-memory
source's, and the same seed trains the same model.
"""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from inkcast.data.quickdraw import SketchDataset
from inkcast.runtime.errors import BadInputError, OptionsError
from inkcast.runtime.sketch_preprocess import MAX_POINTS, points_to_features

POOL_SIZE = 16_384  # drawings per streaming pool (~30 MB of points and rows)
MAX_SAVED_TEST = 20_000  # test drawings kept in the run folder for export's validation


@dataclass
class Pool:
    """Drawings in canonical order: absolute (n, 3) points, (length, 3) model rows, labels, key_ids."""

    points: Sequence[np.ndarray]
    features: Sequence[np.ndarray]
    labels: np.ndarray
    key_ids: Sequence[str]

    def __len__(self) -> int:
        return len(self.labels)

    def take(self, positions: np.ndarray) -> "Pool":
        """The drawings at ``positions``, in that order."""
        return Pool([self.points[i] for i in positions], [self.features[i] for i in positions],
                    np.asarray(self.labels)[positions], [self.key_ids[i] for i in positions])


def batches_in(n: int, pool_size: int, batch: int, extra: Sequence[float] = ()) -> int:
    """Batches ``BucketedBatches`` cuts from n drawings read in pools of ``pool_size``, each pool
    grown by each ``extra`` share in turn (open-set training's outliers: ``open_set.outlier_count``)."""
    def grown(m: int) -> int:
        return m + sum(int(round(m * e)) for e in extra)

    full, rest = divmod(n, pool_size)
    return full * -(-grown(pool_size) // batch) + -(-grown(rest) // batch)


def stratified_positions(y: np.ndarray, n: int, seed: int) -> np.ndarray:
    """Up to n positions of ``y`` spread evenly over its labels (random within each), sorted."""
    rng = np.random.default_rng(seed)
    cats = np.unique(y)
    per = max(1, n // len(cats))
    return np.sort(np.concatenate([rng.permutation(np.flatnonzero(y == c))[:per] for c in cats]))


class InMemorySketchData:
    """A ``SketchDataset`` (``load_quickdraw``): every split held in memory, one pool each."""

    def __init__(self, dataset: SketchDataset):
        self.dataset = dataset
        self.categories, self.source = dataset.categories, dataset.source
        self.counts = {s: len(dataset[s]) for s in ("train", "validation", "test")}

    def pool(self, split: str) -> Pool:
        s = self.dataset[split]
        return Pool(s.points, s.features, s.y, s.key_ids)

    def preload(self) -> None:
        """Nothing to do: every split is in memory already."""

    def train_pools(self, epoch: int) -> Iterator[Pool]:
        yield self.pool("train")

    def train_batches(self, batch: int, extra: Sequence[float] = ()) -> int:
        """Batches in a training epoch: the one pool (grown by the ``extra`` shares) cut into batches."""
        return batches_in(self.counts["train"], max(self.counts["train"], 1), batch, extra)

    def eval_pools(self, split: str) -> Iterator[Pool]:
        yield self.pool(split)

    def calibration(self, n: int, seed: int) -> Pool:
        return self.pool("train").take(stratified_positions(self.dataset["train"].y, n, seed))

    def saved(self, split: str, limit: int = MAX_SAVED_TEST) -> Pool:
        """Every k-th drawing of a split, at most ``limit`` (all when it fits)."""
        return self.pool(split).take(np.arange(0, self.counts[split], max(1, -(-self.counts[split] // limit))))


def dataset_dir(data_dir: str | Path) -> Path | None:
    """The newest ``quickdraw_strokes/<version>`` folder of a TFDS data_dir (or the version
    folder itself), or None when ``data_dir`` is not a prepared dataset."""
    p = Path(data_dir)
    for candidate in (p, p / "quickdraw_strokes"):
        if (candidate / "dataset_info.json").is_file():
            return candidate
        versions = sorted((v for v in candidate.glob("*.*.*") if (v / "dataset_info.json").is_file()),
                          key=lambda v: tuple(int(x) for x in v.name.split(".") if x.isdigit()))
        if versions:
            return versions[-1]
    return None


class StreamingSketchData:
    """A prepared ``quickdraw_strokes`` dataset, read pool by pool with ``tf.data``."""

    def __init__(self, data_dir: str | Path, spacing: float | None, seed: int, pool_size: int = POOL_SIZE,
                 input_context=None):
        import tensorflow_datasets as tfds

        found = dataset_dir(data_dir)
        if found is None:
            raise BadInputError(f"{data_dir}: not a prepared quickdraw_strokes dataset (inkcast data prepare)")
        self.tfds, self.builder = tfds, tfds.builder_from_directory(str(found))
        self.categories = list(self.builder.info.features["label"].names)
        self.source = str(found)
        self.counts = {s: int(self.builder.info.splits[s].num_examples) for s in ("train", "validation", "test")}
        self.spacing, self.seed, self.pool_size, self.input_context = spacing, seed, pool_size, input_context
        self.whole: dict[str, Pool] = {}  # splits that fit in one pool, read once (_split_pools)

    def for_worker(self, input_context) -> "StreamingSketchData":
        """This source as one worker of a cluster sees it: its own shard files of each split."""
        other = object.__new__(StreamingSketchData)
        other.__dict__.update(self.__dict__, input_context=input_context, whole={})
        return other

    def shard_lengths(self, split: str) -> list[int]:
        """Drawings in each shard file of a split, in file order."""
        return [int(n) for n in self.builder.info.splits[split].shard_lengths]

    def _examples(self, split: str, shuffle_seed: int | None = None, points: bool = True) -> Iterator[dict]:
        tfds = self.tfds
        config = tfds.ReadConfig(shuffle_seed=shuffle_seed, input_context=self.input_context)
        decoders = None if points else {"points": tfds.decode.SkipDecoding()}
        ds = self.builder.as_dataset(split=split, shuffle_files=shuffle_seed is not None, read_config=config,
                                     decoders=decoders)
        if shuffle_seed is not None:
            # shards are read interleaved, so their order alone barely changes which drawings
            # meet in a pool: a buffer of a pool's size mixes the stream itself
            ds = ds.shuffle(self.pool_size, seed=shuffle_seed, reshuffle_each_iteration=False)
        return ds.prefetch(256).as_numpy_iterator()

    def _pool(self, items: list[dict]) -> Pool:
        items.sort(key=lambda e: (int(e["label"]), int(e["index"])))
        points, features = [], []
        for e in items:
            p = e["points"].astype(np.float64)
            try:
                f = points_to_features(p, MAX_POINTS, self.spacing)
            except BadInputError as err:
                raise BadInputError(f"{self.source}: drawing {e['key_id'].decode()}: {err}") from None
            points.append(p)
            features.append(f)
        return Pool(points, features, np.array([int(e["label"]) for e in items], np.int64),
                    [e["key_id"].decode() for e in items])

    def _pools(self, examples: Iterator[dict]) -> Iterator[Pool]:
        buf: list[dict] = []
        for e in examples:
            buf.append(e)
            if len(buf) == self.pool_size:
                yield self._pool(buf)
                buf = []
        if buf:
            yield self._pool(buf)

    def _split_pools(self, split: str, shuffle_seed: int | None) -> Iterator[Pool]:
        """A split's pools, the next one made in a thread of its own while the current one is
        trained on. A split that fits in one pool is read once and kept: sorted canonically, it is
        the same pool whatever the shard order."""
        if self.counts[split] <= self.pool_size and self.input_context is None:
            if split not in self.whole:
                self.whole[split] = next(self._pools(self._examples(split, shuffle_seed)))
            yield self.whole[split]
            return
        yield from _ahead(self._pools(self._examples(split, shuffle_seed)))

    def preload(self) -> None:
        """Read now the splits that fit in one pool (kept for every epoch), so that the trainer
        can freeze them out of Python's garbage collector with everything else it holds (left
        to be made during the first epoch, their millions of objects were walked by every full
        collection: 2-3 s an epoch on the five categories)."""
        for split in ("train", "validation"):
            if self.counts[split] <= self.pool_size and self.input_context is None:
                next(self._split_pools(split, None))

    def train_pools(self, epoch: int) -> Iterator[Pool]:
        # the shard order's seed is drawn apart from the batches' generator ([seed, epoch]), so a
        # pool holding the whole split gets the in-memory source's batches exactly
        shuffle_seed = int(np.random.default_rng([self.seed, epoch, 1]).integers(1 << 31))
        yield from self._split_pools("train", shuffle_seed)

    def train_batches(self, batch: int, extra: Sequence[float] = ()) -> int:
        """Batches in a training epoch: each pool (grown by the ``extra`` shares) cut into batches."""
        return batches_in(self.counts["train"], self.pool_size, batch, extra)

    def eval_pools(self, split: str) -> Iterator[Pool]:
        yield from self._split_pools(split, None)

    def calibration(self, n: int, seed: int) -> Pool:
        """Up to n training drawings spread evenly over the categories, from the first training
        pool (a random pool_size of the split): one pool read, not the split. When the split fits
        in one pool this is ``InMemorySketchData.calibration``'s sample exactly."""
        pool = next(self._split_pools("train", int(np.random.default_rng([seed, 2]).integers(1 << 31))))
        return pool.take(stratified_positions(pool.labels, n, seed))

    def saved(self, split: str, limit: int = MAX_SAVED_TEST) -> Pool:
        """Every k-th drawing of a split in reading order, at most ``limit`` (all when it fits)."""
        step = max(1, -(-self.counts[split] // limit))
        return self._pool([e for i, e in enumerate(self._examples(split)) if i % step == 0])


def _ahead(items: Iterator[Pool]) -> Iterator[Pool]:
    """``items``, each made one step ahead in a thread (reading and preprocessing a pool overlaps
    the training steps on the one before; TensorFlow releases the GIL while it computes). When
    the consumer stops early (a multi-worker pass ends at its step count), the thread stops too."""
    q: queue.Queue = queue.Queue(maxsize=1)
    stop = threading.Event()
    done = object()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                pass
        return False

    def work():
        try:
            for item in items:
                if not put(item):
                    return
            put(done)
        except BaseException as e:  # handed to the consumer, raised there
            put(e)

    threading.Thread(target=work, daemon=True).start()
    try:
        while True:
            item = q.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()


def open_sketch_data(data_dir: str | Path, options) -> InMemorySketchData | StreamingSketchData:
    """A prepared dataset (``inkcast data prepare``) is streamed; a folder of category files is
    read into memory (``load_quickdraw``)."""
    if dataset_dir(data_dir) is not None:
        if options.data != type(options.data)():
            raise OptionsError(f"{data_dir} is a prepared dataset: its categories, caps and split were chosen by "
                                "`inkcast data prepare` (give them there)")
        return StreamingSketchData(data_dir, options.resample_spacing, options.seed, options.pool_size)
    from inkcast.data.quickdraw import load_quickdraw

    return InMemorySketchData(load_quickdraw(data_dir, options.data, spacing=options.resample_spacing))
