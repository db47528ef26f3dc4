"""Train the 7-day forecaster on a CSV series and write a run folder.

RUN_DIR gets (each file written to a temporary name, then renamed into place):

* ``model.weights.h5``: the best weights (lowest validation MAE);
* ``options.json``: ``{"task": "forecast", "options": ...}`` with the head that was kept, so the
  exporter rebuilds the network with ``build_model`` and loads the weights;
* ``preprocessing.json``: the runtime contract (window, horizon, scaling fitted on train, series);
* ``metrics.json``: MAE/MAPE per horizon day and overall on the validation and test origins for
  the model, seasonal naive and SARIMA (and the weekday median alone, the model's skip base);
  both heads' figures when ``head="auto"``; timings; the exact options;
* ``test_windows.npz``: the test windows (scaled values ``windows``, model inputs ``x``, base and
  level for ``finish``), targets and Keras forecasts, which export validation compares every
  converted file against;
* ``calibration.npz``: ~200 training windows' model inputs to calibrate integer export variants;
* ``forecast.png``: the test period with the model's and seasonal naive's 7-day forecasts.
"""

from __future__ import annotations

import dataclasses
import sys
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

from inkcast.runtime.forecast_preprocess import ForecastPreprocessing, ModelInput, features, finish, targets, windows
from inkcast.tasks.forecast import figure

from .baselines import forecast_metrics, sarima_forecasts, seasonal_naive, weekday_median
from .checkpoints import save_weights_atomic
from .progress import EpochProgress
from .forecast_model import average_members, build_member, build_model
from .forecast_options import ForecastOptions
from .forecast_splits import Splits, make_splits, resolve_run
from inkcast.data.files import atomic_open, write_json_atomic
from .tf_env import keras, tf

ACCEPTANCE_RATIO = 0.85  # the model's test MAE must be <= this x seasonal naive's


def preprocessing_for(o: ForecastOptions, splits: Splits, series_info: dict[str, Any],
                      scaled: np.ndarray) -> ForecastPreprocessing:
    """The runtime contract for the options, its input standardization fitted on the training windows.

    Each input channel is centred and divided by its training std, so the network reads ~N(0, 1)
    channels. Measured on the CTA run (seed 42): trained on the raw channels (a value ~1 and a
    residual ~0.03), the full-integer TFLite file lost 56-66 % of MAE, also when the
    standardization was folded exactly into the first Conv1D afterwards (the int8 LSTM kernel
    fails on the LSTM weights that training produces); trained on standardized channels, -0.05 %
    (vector head) and -0.02 % (seq2seq).
    """
    prep = ForecastPreprocessing(scaling=splits.scaling, window=o.window, horizon=o.horizon, series=series_info,
                                 features=("value", "weekday_residual") if o.residual_input else ("value",),
                                 window_norm=o.window_norm, base=o.seasonal_skip, base_weeks=o.skip_weeks)
    x, _ = windows(scaled, o.window, o.horizon, splits.origins["train"])
    raw = features(x, prep, standardize=False).x.astype(np.float64)
    std = raw.std(axis=(0, 1))
    return dataclasses.replace(prep, input_mean=tuple(float(v) for v in raw.mean(axis=(0, 1))),
                               input_std=tuple(float(v) if v > 0 else 1.0 for v in std))


class Period:
    """One period's windows: model inputs, the network's targets and sample weights, true values."""

    def __init__(self, scaled: np.ndarray, origins: np.ndarray, prep: ForecastPreprocessing):
        x, y = windows(scaled, prep.window, prep.horizon, origins)
        self.windows = x[..., 0]
        self.inp: ModelInput = features(x, prep)
        self.t = targets(y, self.inp)
        # |output - t| * level = |forecast - y| in scaled units: weighting by the level makes the
        # loss the scaled-unit error of the forecast, as if finish() were part of the graph.
        self.w = self.inp.level[:, 0].astype(np.float32)

    def fit_args(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return self.inp.x, self.t, self.w


def _periods(scaled: np.ndarray, splits: Splits, prep: ForecastPreprocessing) -> dict[str, Period]:
    return {p: Period(scaled, splits.origins[p], prep) for p in ("train", "val", "test")}


def fit_model(o: ForecastOptions, head: str, data: dict[str, Period],
              log: Callable[[str], None] | None = None, name: str | None = None) -> tuple["keras.Model", dict[str, Any]]:
    """Train one member of a head at ``o.seed``, deterministic; early stopping on validation MAE,
    best weights kept."""
    keras.utils.set_random_seed(o.seed)
    tf.config.experimental.enable_op_determinism()
    model = build_member(o, head, name=name)
    loss = {"huber": keras.losses.Huber(), "mae": "mae", "mse": "mse"}[o.loss]
    # weighted "mae" = sum(w |e|) / sum(w): the validation forecasts' scaled MAE times a constant
    model.compile(optimizer=keras.optimizers.Adam(o.learning_rate), loss=loss, weighted_metrics=["mae"])
    es = keras.callbacks.EarlyStopping(monitor="val_mae", patience=o.patience, restore_best_weights=True)
    callbacks: list[Any] = [es] + ([EpochProgress(o.max_epochs, f"forecast {head}", ("loss", "mae", "val_mae"), log,
                                                  live=sys.stderr.isatty())] if log else [])
    start = time.monotonic()
    x, t, w = data["train"].fit_args()
    hist = model.fit(x, t, sample_weight=w, validation_data=data["val"].fit_args(), epochs=o.max_epochs,
                     batch_size=o.batch_size, shuffle=True, callbacks=callbacks, verbose=0)
    # EarlyStopping restores the best weights only when it stops training itself.
    if es.best_weights is not None and es.stopped_epoch == 0:
        model.set_weights(es.best_weights)
    val_mae = hist.history["val_mae"]
    info = {"epochs_run": len(val_mae), "best_epoch": int(np.argmin(val_mae)) + 1,
            "train_seconds": round(time.monotonic() - start, 2),
            "parameters": int(model.count_params())}
    return model, info


def predict(model: "keras.Model", inp: ModelInput, prep: ForecastPreprocessing) -> np.ndarray:
    """Forecasts in the series' units for prepared inputs: the network, then ``finish``."""
    return prep.scaling.invert(finish(model.predict(inp.x, batch_size=256, verbose=0), inp))


def _write_npz(path: Path, **arrays: np.ndarray) -> None:
    with atomic_open(path, "wb", suffix=".npz") as f:
        np.savez(f, **arrays)


def train_forecast(options: ForecastOptions | None, data_path: str | Path, out_dir: str | Path,
                   progress: bool = True) -> dict[str, Any]:
    """Read the series, train (one head or both), evaluate against the baselines, write RUN_DIR.

    Returns the metrics written to ``metrics.json``. Bad data or options raise ``BadInputError``.
    """
    o = options or ForecastOptions()
    log: Callable[[str], None] = (lambda m: print(m, file=sys.stderr, flush=True)) if progress else (lambda m: None)
    t_start = time.monotonic()
    requested = o
    o, series, recipe = resolve_run(o, data_path)
    if recipe is not None:
        log(f"{Path(data_path).name}: recipe {recipe.name!r} ({recipe.about})")
    splits = make_splits(series, o)
    scaled = splits.scaling.apply(series.values)
    prep = preprocessing_for(o, splits, {
        "date_column": o.date_column, "value_column": o.value_column, "date_format": series.date_format,
        "fill": o.fill, "first_date": str(series.start), "last_date": str(series.end),
        "train_period": [o.train_start, o.train_end]}, scaled)
    log(f"{series.path}: {len(series)} days {series.start}..{series.end} ({series.duplicates_dropped} duplicate "
        f"rows dropped, {len(series.filled)} days filled); origins: "
        + ", ".join(f"{p} {len(v)}" for p, v in splits.origins.items()))
    data = _periods(scaled, splits, prep)
    actual = {p: windows(series.values, o.window, o.horizon, splits.origins[p])[1].astype(np.float64)
              for p in ("val", "test")}

    heads = ["vector", "seq2seq"] if o.head == "auto" else [o.head]
    candidates: dict[str, dict[str, Any]] = {}
    models: dict[str, Any] = {}
    for head in heads:
        members, member_info = [], []
        for i in range(o.ensemble):
            seed = o.seed + i
            log(f"training the {head} head" + (f", member {i + 1} of {o.ensemble} (seed {seed})" if o.ensemble > 1 else "")
                + " ...")
            member, info = fit_model(o.replace(seed=seed), head, data, log if progress else None,
                                     name=f"member_{i}")
            if o.ensemble > 1:
                info = {"seed": seed, **info,
                        **{p: {"mae": forecast_metrics(predict(member, data[p].inp, prep), actual[p])["mae"]}
                           for p in ("val", "test")}}
                log(f"  member {i + 1}: val MAE {figure(info['val']['mae'])} (best epoch {info['best_epoch']} of "
                    f"{info['epochs_run']}, {info['train_seconds']} s)")
            members.append(member)
            member_info.append(info)
        model = average_members(o, members, head)
        preds = {p: predict(model, data[p].inp, prep) for p in ("val", "test")}
        info = {"train_seconds": round(sum(m["train_seconds"] for m in member_info), 2),
                "parameters": int(model.count_params())}
        if o.ensemble == 1:
            info.update(member_info[0])
        else:
            info["members"] = member_info
        candidates[head] = {**info, **{p: forecast_metrics(preds[p], actual[p]) for p in preds}, "_preds": preds}
        models[head] = model
        log(f"  {head}" + (f" (average of {o.ensemble})" if o.ensemble > 1 else "")
            + f": val MAE {figure(candidates[head]['val']['mae'])}, test MAE {figure(candidates[head]['test']['mae'])} "
            f"({info['train_seconds']} s)")
    best = min(heads, key=lambda h: candidates[h]["val"]["mae"])  # chosen on validation, never on test
    model, preds = models[best], candidates[best].pop("_preds")
    for c in candidates.values():
        c.pop("_preds", None)

    log("baselines: seasonal naive and SARIMA ...")
    naive = {p: seasonal_naive(series.values, splits.origins[p], o.horizon) for p in ("val", "test")}
    both = np.concatenate([splits.origins["val"], splits.origins["test"]])
    sarima_all, sarima_info = sarima_forecasts(series.values, splits.bounds["train"], both, o.horizon,
                                               o.sarima_order, o.sarima_seasonal_order)
    sarima = {"val": sarima_all[: len(splits.origins["val"])], "test": sarima_all[len(splits.origins["val"]):]}

    results = {p: {"model": forecast_metrics(preds[p], actual[p]),
                   "seasonal_naive": forecast_metrics(naive[p], actual[p]),
                   "sarima": forecast_metrics(sarima[p], actual[p]),
                   "weekday_median": forecast_metrics(
                       weekday_median(series.values, splits.origins[p], o.horizon, o.skip_weeks), actual[p])}
               for p in ("val", "test")}
    test = results["test"]
    ratio = test["model"]["mae"] / test["seasonal_naive"]["mae"]
    final_options = o.replace(head=best)
    metrics: dict[str, Any] = {
        "task": "forecast",
        "data": {"path": str(Path(data_path).resolve()), "days": len(series), "first_date": str(series.start),
                 "last_date": str(series.end), "duplicates_dropped": series.duplicates_dropped,
                 "days_filled": len(series.filled), "date_format": series.date_format},
        "periods": {p: {"start": str(s), "end": str(e), "origins": int(len(splits.origins[p])),
                        "first_origin": str(series.dates[splits.origins[p][0]]),
                        "last_origin": str(series.dates[splits.origins[p][-1]])}
                    for p, (s, e) in ((p, o.period(p)) for p in ("train", "val", "test"))},
        "recipe": recipe.name if recipe else None,
        "units": o.value_column,
        "head": best,
        "head_selection": "lowest validation MAE" if len(heads) > 1 else "given by the options",
        "heads": candidates,
        "val": results["val"],
        "test": results["test"],
        "acceptance": {"test_mae_ratio_to_seasonal_naive": ratio, "target": ACCEPTANCE_RATIO,
                       "passed": bool(ratio <= ACCEPTANCE_RATIO),
                       "test_mae_ratio_to_sarima": test["model"]["mae"] / test["sarima"]["mae"]},
        "sarima": sarima_info,
        "preprocessing": prep.to_dict(),
        "training_seconds": {h: c["train_seconds"] for h, c in candidates.items()},
        "total_seconds": None,
        "options": final_options.to_dict(),
        "requested_options": requested.to_dict(),
    }
    log(f"test MAE: model {figure(test['model']['mae'])}, seasonal naive {figure(test['seasonal_naive']['mae'])}, "
        f"SARIMA {figure(test['sarima']['mae'])} (model / naive = {ratio:.3f})")

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    save_weights_atomic(model, out / "model.weights.h5")
    write_json_atomic(out / "options.json", {"task": "forecast", "options": final_options.to_dict()})
    write_json_atomic(out / "preprocessing.json", prep.to_dict())
    tw = data["test"]
    _write_npz(out / "test_windows.npz", windows=tw.windows, x=tw.inp.x, base=tw.inp.base, level=tw.inp.level, y=actual["test"].astype(np.float32),
               keras_forecast=preds["test"].astype(np.float32),
               origin_dates=series.dates[splits.origins["test"]].astype(str))
    # training windows only (never test), evenly spread, to calibrate integer export variants
    train_x = data["train"].inp.x
    _write_npz(out / "calibration.npz", x=train_x[:: max(1, len(train_x) // 200)])
    from .forecast_plot import plot_forecasts

    plot_forecasts(out / "forecast.png", series, splits.origins["test"], o.horizon,
                   {"model": preds["test"], "seasonal naive": naive["test"]}, results["test"])
    metrics["total_seconds"] = round(time.monotonic() - t_start, 2)
    write_json_atomic(out / "metrics.json", metrics)
    log(f"run written to {out}")
    return metrics


def load_forecast_run(run_dir: str | Path):
    """Rebuild a run's trained model: returns (keras model, options, preprocessing contract)."""
    from inkcast.runtime.errors import BadInputError

    from inkcast.data.files import read_json

    run = Path(run_dir)
    for name in ("options.json", "preprocessing.json", "model.weights.h5"):
        if not (run / name).is_file():
            raise BadInputError(f"{run / name}: not found; is {run} a run folder made by `inkcast train forecast`?")
    info = read_json(run / "options.json")
    if not isinstance(info, dict) or info.get("task") != "forecast":
        raise BadInputError(f"{run}: a {info.get('task') if isinstance(info, dict) else None!r} run, not a forecast run")
    # run folders made before ensembles existed hold one network
    o = ForecastOptions.from_dict({"ensemble": 1, **info["options"]})
    model = build_model(o)
    model.load_weights(str(run / "model.weights.h5"))
    prep = ForecastPreprocessing.from_dict(read_json(run / "preprocessing.json"))
    return model, o, prep
