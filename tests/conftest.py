"""Shared fixtures: the real data folder, and a small sketch model trained and exported once.

The data lives beside the repository (``../shared/data``; ``INKCAST_DATA`` overrides). The
session fixture trains a small real model on real drawings (a few hundred per category, a few
epochs) so the tests exercise real training, conversion and inference within CI's time.
``INKCAST_TEST_CACHE=DIR`` keeps that run and bundle between test sessions (development only).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def data_root() -> Path:
    return Path(os.environ.get("INKCAST_DATA", ROOT.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def data_dir() -> Path:
    d = data_root()
    if not (d / "quickdraw").is_dir():
        pytest.skip(f"real data not found at {d} (set INKCAST_DATA)")
    return d


@pytest.fixture(scope="session")
def cta_csv(data_dir) -> Path:
    """The Chicago transit ridership series (daily, unsorted, with duplicate rows)."""
    p = data_dir / "ridership" / "CTA_-_Ridership_-_Daily_Boarding_Totals.csv"
    if not p.is_file():
        pytest.skip(f"{p} not found")
    return p


@pytest.fixture(scope="session")
def quickdraw_dir(data_dir) -> Path:
    return data_dir / "quickdraw"


@pytest.fixture(scope="session")
def outliers_dir(data_dir) -> Path:
    """Google's simplified drawings of 168 categories that are none of the five: the outliers."""
    p = data_dir / "quickdraw-raw" / "simplified"
    if not p.is_dir():
        pytest.skip(f"{p} not found")
    return p


@pytest.fixture(scope="session")
def unknown_drawings(outliers_dir) -> list:
    """One real drawing of each outlier category held out for the test figures (``role_of`` ==
    "test"): categories that neither trained the suite's model nor chose its threshold."""
    from inkcast.data.formats import category_files, read_file
    from inkcast.data.outliers import role_of

    out = []
    for cat, (path, fmt) in category_files(outliers_dir).items():
        if role_of(cat) == "test":
            out.append(next(iter(read_file(path, fmt, word=cat)))[1]["drawing"])
    return out


@pytest.fixture(scope="session")
def sketch_run(quickdraw_dir, outliers_dir, tmp_path_factory) -> Path:
    """A real training run: 1,200 drawings per category, 12 epochs, with outlier exposure on the
    shared outlier categories (no time budget: the same model on any machine)."""
    cache = os.environ.get("INKCAST_TEST_CACHE")
    run = Path(cache) / "sketch-run" if cache else tmp_path_factory.mktemp("sketch") / "run"
    if (run / "metrics.json").is_file():
        return run
    from inkcast.data.quickdraw import QuickDrawOptions
    from inkcast.training.sketch_options import SketchTrainOptions
    from inkcast.training.train_sketch import train_sketch_from_folder

    o = SketchTrainOptions(data=QuickDrawOptions(max_per_category=1200), epochs=12, patience=3,
                           calibration_samples=300, outliers=(str(outliers_dir),))
    train_sketch_from_folder(quickdraw_dir, run, o)
    return run


@pytest.fixture(scope="session")
def prepared(quickdraw_dir, tmp_path_factory) -> Path:
    """``sketch_run``'s drawings (1,200 per category) as the TFDS dataset quickdraw_strokes, 4 shard
    files a split (``inkcast data prepare``): what streaming and multi-worker training read."""
    from inkcast.data.quickdraw import QuickDrawOptions
    from inkcast.datasets.quickdraw_strokes import PrepareOptions, prepare

    out = tmp_path_factory.mktemp("tfds")
    prepare(quickdraw_dir, out, PrepareOptions(data=QuickDrawOptions(max_per_category=1200), shards=4))
    return out


@pytest.fixture(scope="session")
def sketch_bundle(sketch_run, tmp_path_factory) -> Path:
    """The exported bundle of ``sketch_run``: the default variants and QAT, at export's default
    output temperature. The small CI model is far from the default one, so quantized variants
    may exceed the 0.5-point gate here: they are written (``allow_drop``) and the gate itself is
    tested on its own."""
    cache = os.environ.get("INKCAST_TEST_CACHE")
    bundle = Path(cache) / "sketch-bundle" if cache else tmp_path_factory.mktemp("sketch") / "bundle"
    if (bundle / "manifest.json").is_file():
        return bundle
    from inkcast.export.pipeline import ExportOptions, export_run

    # every variant, the opt-in QAT one included
    export_run(sketch_run, bundle, ExportOptions(variants=("default", "tflite-qat-int8"), allow_drop=True,
                                                 calibration_samples=200))
    return bundle


@pytest.fixture(scope="session")
def forecast_run(cta_csv, tmp_path_factory):
    """One small real forecaster run on the CTA series (both heads, 2 members each, 3 epochs):
    (run folder, metrics)."""
    from inkcast.training.forecast_options import ForecastOptions
    from inkcast.training.train_forecast import train_forecast

    from tests.bundles import FORECAST_SMALL

    out = tmp_path_factory.mktemp("forecast") / "run"
    return out, train_forecast(ForecastOptions(**FORECAST_SMALL), cta_csv, out, progress=False)


@pytest.fixture(scope="session")
def forecast_bundle(forecast_run, tmp_path_factory) -> Path:
    from inkcast.export.pipeline import ExportOptions, export_run

    from tests.bundles import FORECAST_FORMATS

    out = tmp_path_factory.mktemp("forecast") / "bundle"
    export_run(forecast_run[0], out, ExportOptions(variants=FORECAST_FORMATS), log=lambda m: None)
    return out


@pytest.fixture()
def bundle_copy(sketch_bundle, tmp_path) -> Path:
    """A private copy of the bundle that a test may damage."""
    dst = tmp_path / "bundle"
    shutil.copytree(sketch_bundle, dst)
    return dst


@pytest.fixture(scope="session")
def test_drawings(quickdraw_dir):
    """Real test-split drawings (raw records) of every category, 60 per category."""
    from inkcast.data.quickdraw import split_records

    return split_records(quickdraw_dir, "test", per_category=60)
