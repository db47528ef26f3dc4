"""Compare ways of saying "unknown" on run folders trained on the same data with the same seed.

For each run (``inkcast train sketch ... --out RUN``, with or without ``--outliers``, either
``--unknown-method``) and each score -- the top-1 probability (max-softmax) and the energy score
(Liu et al., NeurIPS 2020: logsumexp of the logits, recovered from the last Dense layer) -- the
figures on the outlier categories of the given folders, by role (``data/outliers.role_of``): the
validation role is for recipe choice, the test role is the report, and the train role (what the
model was shown) tells fitting from generalizing.
The threshold for the "at threshold" columns keeps 95 % of the run's known validation drawings.

    python -m experiments.open_set RUN [RUN ...] [--outliers ../shared/data/quickdraw-raw/simplified] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from inkcast.data.outliers import load_outliers
from inkcast.data.rows import load_rows
from inkcast.tasks.unknown import open_set_metrics, threshold_keeping
from inkcast.training.sketch_model import build_sketch_model
from inkcast.training.sketch_options import SketchTrainOptions
from inkcast.training.tf_env import keras
from inkcast.training.train_sketch import predict_rows

DEFAULT_OUTLIERS = "../shared/data/quickdraw-raw/simplified"


def logits_model(run: Path):
    """(probabilities model, logits model, labels, options, background) of a run folder."""
    info = json.loads((run / "options.json").read_text())
    o = SketchTrainOptions.from_dict(info["options"])
    background = bool(o.outliers) and o.unknown_method == "background-class"
    model = build_sketch_model(len(info["labels"]) + background, o.model)
    model.load_weights(str(run / "model.weights.h5"))
    dense = model.get_layer("probabilities")
    hidden = keras.Model(model.input, dense.input)
    w, b = dense.get_weights()
    return model, (hidden, w, b), info["labels"], o, background


def scores(model, logit_parts, rows, k: int) -> dict[str, np.ndarray]:
    """Each row's known-class probabilities and its two scores."""
    hidden, w, b = logit_parts
    probs = predict_rows(model, rows)[:, :k]
    h = predict_rows(hidden, rows) if len(rows) else np.zeros((0, w.shape[0]))
    logits = (h @ w + b)[:, :k].astype(np.float64)
    m = logits.max(1, keepdims=True)
    energy = (m[:, 0] + np.log(np.exp(logits - m).sum(1))) if len(rows) else np.zeros(0)
    return {"probs": probs, "msp": probs.max(1) if len(rows) else np.zeros(0), "energy": energy}


def evaluate_run(run: Path, outlier_folders: list[str]) -> dict:
    model, parts, labels, o, background = logits_model(run)
    k = len(labels)
    val_rows, val_y, _ = load_rows(run / "validation_split.npz")
    test_rows, test_y, _ = load_rows(run / "test_split.npz")
    out = load_outliers(outlier_folders, labels, o.outlier_max_per_category, o.resample_spacing)
    val, test = scores(model, parts, val_rows, k), scores(model, parts, test_rows, k)
    roles = {r: (out[r].categories, scores(model, parts, out[r].features, k)) for r in ("train", "validation", "test")}
    result = {"run": str(run), "method": (o.unknown_method if o.outliers else "none (max-softmax baseline)"),
              "known_top1_test": float((test["probs"].argmax(1) == test_y).mean())}
    for score in ("msp", "energy"):
        t = threshold_keeping(val[score], 0.95)
        for role, (cats, s) in roles.items():
            # open_set_metrics ranks by the top-1 probability; for another score hand it a
            # one-column "probability" that is the score itself (the ranking is all it uses)
            unk = s["probs"] if score == "msp" else s[score][:, None]
            known = test if role == "test" else val  # the train role is scored against validation
            y = test_y if role == "test" else val_y
            m = open_set_metrics(known[score], known["probs"].argmax(1) == y, unk, cats, t,
                                 labels if score == "msp" else ["score"])
            result[f"{score}/{role}"] = {key: m[key] for key in ("auroc", "fpr95", "known_kept", "unknown_accepted",
                                                                  "unknown_drawings", "unknown_categories")}
    return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("runs", nargs="+")
    p.add_argument("--outliers", action="append", help=f"outlier folders (default {DEFAULT_OUTLIERS})")
    p.add_argument("--json", help="also write the figures here")
    a = p.parse_args(argv)
    results = [evaluate_run(Path(r), a.outliers or [DEFAULT_OUTLIERS]) for r in a.runs]
    print("| run | method | score | known top-1 (test) | AUROC val | FPR95 val | AUROC test | FPR95 test | "
          "known kept test | unknown accepted test | unknown accepted (train categories) |")
    print("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in results:
        for score in ("msp", "energy"):
            v, t = r[f"{score}/validation"], r[f"{score}/test"]
            print(f"| {r['run']} | {r['method']} | {score} | {100 * r['known_top1_test']:.2f} % | {v['auroc']:.4f} | "
                  f"{100 * v['fpr95']:.1f} % | {t['auroc']:.4f} | {100 * t['fpr95']:.1f} % | "
                  f"{100 * t['known_kept']:.1f} % | {100 * t['unknown_accepted']:.1f} % | "
                  f"{100 * r[f'{score}/train']['unknown_accepted']:.1f} % |")
    if a.json:
        Path(a.json).write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
