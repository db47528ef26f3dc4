"""Real training on real drawings: held-out accuracy, metrics.json, reproducibility."""

import json

import numpy as np

from inkcast.data.quickdraw import QuickDrawOptions, load_quickdraw
from inkcast.training.sketch_options import SketchTrainOptions
from inkcast.training.train_sketch import train_sketch


def test_metrics_json_and_held_out_accuracy(sketch_run):
    m = json.loads((sketch_run / "metrics.json").read_text())
    # 1,200 drawings per category and at most 150 s of training: far above chance (0.2).
    assert m["top1"] > 0.7, m["top1"]
    assert m["top3"] >= m["top1"]
    assert set(m["per_category_top1"]) == {"apple", "candle", "eyeglasses", "fork", "star"}
    cm = np.array(m["confusion_matrix"]["rows_true_cols_predicted"])
    assert cm.sum() == m["count"] == m["drawings"]["test"]
    assert abs(np.trace(cm) / cm.sum() - m["top1"]) < 1e-9
    assert m["training_seconds"] > 0 and m["options"]["seed"] == 7
    assert m["options"]["data"]["max_per_category"] == 1200
    assert m["best_validation_accuracy"] == max(m["history"]["val_accuracy"])


def test_training_is_reproducible(quickdraw_dir, tmp_path):
    o = SketchTrainOptions(data=QuickDrawOptions(max_per_category=60), epochs=2, patience=5)
    ds = load_quickdraw(quickdraw_dir, o.data)
    a = train_sketch(ds, tmp_path / "a", o, verbose=0)
    b = train_sketch(ds, tmp_path / "b", o, verbose=0)
    assert a["history"]["loss"] == b["history"]["loss"]
    assert a["confusion_matrix"] == b["confusion_matrix"]
