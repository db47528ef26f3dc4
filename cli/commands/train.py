"""``inkcast train sketch`` and ``inkcast train forecast``."""

from __future__ import annotations

import argparse

from inkcast.runtime.errors import OptionsError

from .vocabulary import add_input

# ``inkcast train forecast`` argument -> ForecastOptions field (None: not given, keep the default)
FORECAST_ARGUMENTS = {
    "date_column": "date_column", "value_column": "value_column", "date_format": "date_format", "fill": "fill",
    "train_start": "train_start", "train_end": "train_end", "valid_start": "val_start", "valid_end": "val_end",
    "test_start": "test_start", "test_end": "test_end", "window": "window", "epochs": "max_epochs",
    "seed": "seed", "head": "head", "ensemble": "ensemble", "recipe": "recipe",
    "valid_fraction": "val_fraction", "test_fraction": "test_fraction",
}


def register(sub) -> None:
    tr = sub.add_parser("train", help="train a model").add_subparsers(dest="task", required=True)
    ts = tr.add_parser("sketch", help="train the sketch recognizer on Quick, Draw! files or a prepared dataset")
    add_input(ts, "folder of category files (<category>.ndjson simplified or raw, .bin, .npz, .csv; read into "
                  "memory) or a TFDS data_dir made by `inkcast data prepare` (streamed)")
    ts.add_argument("--format", choices=["simplified", "raw", "binary", "npz", "csv"],
                    help="read only files of this format (default: every file, each format detected)")
    ts.add_argument("--split-by", choices=["key_id", "source"],
                    help="key_id: sha256 of key_id, 80/10/10 (default); source: the files' own split (sketch-rnn)")
    ts.add_argument("--pool-size", type=int,
                    help="a prepared dataset is streamed in shuffled pools of this many drawings (default 16384)")
    ts.add_argument("--out", required=True, help="run folder to write")
    ts.add_argument("--categories", help="comma-separated subset (default: every file)")
    ts.add_argument("--max-per-category", type=int)
    ts.add_argument("--recognized-only", action="store_true")
    ts.add_argument("--epochs", type=int,
                    help="passes over the training drawings (default: a step budget fitted to the data: "
                         "24 passes, at least --min-steps and at most --max-steps optimizer steps)")
    ts.add_argument("--min-steps", type=int, help="the step budget's floor for a small set (default 12000)")
    ts.add_argument("--max-steps", type=int, help="the step budget's cap for a large set (default 100000)")
    ts.add_argument("--batch-size", type=int)
    ts.add_argument("--patience", type=int,
                    help="stop after this many epochs without a better validation accuracy and keep the best "
                         "epoch's weights (default: off: every epoch runs and the last one's weights are kept)")
    ts.add_argument("--schedule", choices=["cosine", "plateau"],
                    help="learning rate: cosine decay over the epochs (default) or halved on a plateau")
    ts.add_argument("--seed", type=int)
    ts.add_argument("--max-train-seconds", type=float,
                    help="an optional time budget: no epoch is started that would end past it (default: none)")
    ts.add_argument("--resume", action="store_true",
                    help="go on from the run folder's last checkpoint (written after every epoch), with the "
                         "same options, after the run was killed")
    ts.add_argument("--local-workers", type=int,
                    help="run N worker processes of one TF_CONFIG cluster on 127.0.0.1 (MultiWorkerMirroredStrategy; "
                         "needs a prepared dataset); on real machines set TF_CONFIG on each and run the command there")
    ts.add_argument("--max-restarts", type=int, default=3,
                    help="with --local-workers: restarts of the whole cluster after a worker dies (default 3)")
    ts.add_argument("--outliers", action="append", metavar="DIR",
                    help="a folder of category files whose categories other than the labels are outliers: the "
                         "model learns to say 'unknown' for them (repeatable; give --data itself to use its "
                         "categories left out by --categories). Split by category: some train, some are held "
                         "out for the validation and test figures")
    ts.add_argument("--unknown-method", choices=["outlier-exposure", "background-class"],
                    help="how outliers are learned (default outlier-exposure; background-class is kept for "
                         "comparison and is not exported)")
    ts.add_argument("--outlier-weight", type=float, help="outlier exposure's loss weight (default 0.5)")
    ts.add_argument("--outlier-share", type=float,
                    help="outlier drawings shown per known drawing in each epoch (default 0.25)")
    ts.add_argument("--outlier-mix", type=float,
                    help="share of those shown as recombinations of two outlier drawings' strokes")
    ts.add_argument("--known-mix-share", type=float,
                    help="recombinations of two known drawings of different labels, per known drawing, as outliers")
    ts.add_argument("--no-augment", action="store_true")
    ts.add_argument("--resample-spacing", type=float,
                    help="arc-length resampling step of the model input in the 0..255 frame "
                         "(default 24; 0 = the drawing's own points)")
    ts.set_defaults(func=train_sketch_command)

    tf_ = tr.add_parser("forecast", help="train the 7-day forecaster on a daily CSV series")
    add_input(tf_, "CSV file of a daily series")
    tf_.add_argument("--date-column", help="default: the file's one date column")
    tf_.add_argument("--value-column", help="default: the file's one numeric column")
    tf_.add_argument("--date-format", help="strptime format (default: detected)")
    tf_.add_argument("--fill", choices=["interpolate", "ffill", "zero"], help="policy for date gaps")
    for period in ("train", "valid", "test"):
        tf_.add_argument(f"--{period}-start")
        tf_.add_argument(f"--{period}-end")
    tf_.add_argument("--valid-fraction", type=float,
                     help="share of the days validated on when no split dates are given (default 0.1)")
    tf_.add_argument("--test-fraction", type=float,
                     help="share of the days (the last) tested on when no split dates are given (default 0.1)")
    tf_.add_argument("--recipe", help="defaults of a known file: auto (matched by its header, the default), "
                                      "none, or a name (cta-rail)")
    tf_.add_argument("--ensemble", type=int, help="networks averaged in the exported model (default 5)")
    tf_.add_argument("--window", type=int)
    tf_.add_argument("--epochs", type=int)
    tf_.add_argument("--seed", type=int)
    tf_.add_argument("--head", choices=["vector", "seq2seq"])
    tf_.add_argument("--out", required=True)
    tf_.set_defaults(func=train_forecast_command)


def sketch_options(a: argparse.Namespace):
    """``inkcast train sketch`` arguments -> ``SketchTrainOptions`` (defaults where not given)."""
    from inkcast.data.quickdraw import QuickDrawOptions
    from inkcast.training.sketch_options import SketchTrainOptions

    o = SketchTrainOptions(data=QuickDrawOptions(
        categories=tuple(c.strip() for c in a.categories.split(",")) if a.categories else None,
        max_per_category=a.max_per_category, recognized_only=a.recognized_only, format=a.format,
        split_by=a.split_by or "key_id"))
    for key in ("epochs", "min_steps", "max_steps", "seed", "batch_size", "max_train_seconds", "patience", "schedule",
                "pool_size",
                "outlier_weight", "outlier_share", "outlier_mix", "known_mix_share"):
        if getattr(a, key) is not None:
            setattr(o, key, getattr(a, key))
    if a.outliers:
        o.outliers = tuple(a.outliers)
    if a.unknown_method:
        o.unknown_method = a.unknown_method
    if a.no_augment:
        o.augment = False
    if a.resample_spacing is not None:
        if a.resample_spacing < 0:
            raise OptionsError(f"--resample-spacing must be 0 (off) or positive, got {a.resample_spacing}")
        o.resample_spacing = a.resample_spacing or None
    return o


READER_OPTIONS = ("--categories", "--max-per-category", "--format", "--split-by")  # a prepared dataset fixed these


def train_sketch_command(a: argparse.Namespace) -> int:
    o = sketch_options(a)  # bad options fail here, before any worker starts
    if a.local_workers:
        return train_local_cluster(a, o)
    from inkcast.training.train_sketch import train_sketch_from_folder

    if train_sketch_from_folder(a.data, a.out, o, resume=a.resume):  # {} on a worker but the chief
        print(f"run folder: {a.out} (metrics.json, report.md, model.weights.h5)")
    return 0


def train_local_cluster(a: argparse.Namespace, o) -> int:
    """``--local-workers N``: check what every worker would refuse first (so a usage error never
    starts, let alone restarts, a cluster), prepare a plain folder of drawings once into
    ``RUN/prepared`` (the workers share out its shard files), then supervise the workers."""
    from pathlib import Path

    from inkcast.training.local_cluster import run_local_workers, without_option
    from inkcast.training.sketch_data import dataset_dir

    if a.local_workers < 1:
        raise OptionsError(f"--local-workers must be at least 1, got {a.local_workers}")
    if o.outliers:
        raise OptionsError("outlier training (--outliers) runs on one machine for now: drop --outliers or "
                           "--local-workers")
    if o.batch_size % a.local_workers:
        raise OptionsError(f"the batch {o.batch_size} does not split evenly over {a.local_workers} workers")
    argv = without_option(without_option(a.argv, "--local-workers"), "--max-restarts")
    if not Path(a.data).exists():
        raise FileNotFoundError(f"{a.data}: no such folder")
    if dataset_dir(a.data) is not None:
        given = [opt for opt in READER_OPTIONS if any(x == opt or x.startswith(opt + "=") for x in argv)]
        if given or a.recognized_only:
            raise OptionsError(f"{a.data} is a prepared dataset: its categories, caps and split were chosen by "
                               f"inkcast data prepare; drop {', '.join(given) or '--recognized-only'}")
    else:
        from inkcast.datasets.quickdraw_strokes import PrepareOptions, prepare

        prepared = Path(a.out) / "prepared"
        print(f"[cluster] {a.data} is a folder of drawings: preparing it once as a TFDS dataset in {prepared} "
              "(as inkcast data prepare does), whose shard files the workers share", flush=True)
        prepare(a.data, prepared, PrepareOptions(data=o.data))
        for option in READER_OPTIONS:
            argv = without_option(argv, option)
        argv = [x for x in without_option(argv, "--data") if x not in ("--recognized-only", a.data)] + [str(prepared)]
    return run_local_workers(argv, a.local_workers, a.max_restarts)


def forecast_options(a: argparse.Namespace):
    """``inkcast train forecast`` arguments -> ``ForecastOptions`` (defaults where not given)."""
    from inkcast.training.forecast_options import ForecastOptions

    given = {field: getattr(a, dest) for dest, field in FORECAST_ARGUMENTS.items() if getattr(a, dest, None) is not None}
    return ForecastOptions.from_dict({**ForecastOptions().to_dict(), **given})


def train_forecast_command(a: argparse.Namespace) -> int:
    """Train, write the run folder, print the test table. The CSV and the split dates are checked
    before TensorFlow is imported, so a bad file or date is reported in a second."""
    from inkcast.training.forecast_splits import resolve_run
    from inkcast.training.forecast_summary import summary_lines

    o = forecast_options(a)
    resolve_run(o, a.data)
    from inkcast.training.train_forecast import train_forecast

    m = train_forecast(o, a.data, a.out, progress=True)
    print("\n".join(summary_lines(m)))
    print(f"run folder: {a.out} (metrics.json, forecast.png, model.weights.h5, options.json, preprocessing.json)")
    return 0
