"""Many categories end to end: every real category here (5 simplified + 168 raw, names with spaces
and capitals) in one folder, trained, reported; and the report's picture at 345 categories."""

from __future__ import annotations

import json

import numpy as np
import pytest

from inkcast.data.download import category_names
from inkcast.training.sketch_report import confused_pairs, confusion_order, report_lines, write_report


@pytest.mark.slow
def test_173_real_categories_of_two_formats_train_and_report(data_dir, tmp_path):
    from inkcast.data.quickdraw import QuickDrawOptions
    from inkcast.training.sketch_options import SketchTrainOptions
    from inkcast.training.train_sketch import train_sketch_from_folder

    folder = tmp_path / "data"
    folder.mkdir()
    for p in [*(data_dir / "quickdraw").glob("*.ndjson"), *(data_dir / "quickdraw-raw" / "raw").glob("*.ndjson")]:
        (folder / p.name).symlink_to(p)
    o = SketchTrainOptions(data=QuickDrawOptions(max_per_category=60), epochs=2, calibration_samples=200)
    m = train_sketch_from_folder(folder, tmp_path / "run", o)
    labels = m["confusion_matrix"]["labels"]
    assert len(labels) == 173 and "The Eiffel Tower" in labels and "animal migration" in labels
    assert set(m["per_category_top1"]) == set(labels)
    assert 0 < m["top1"] <= m["top3"] <= m["top5"] <= 1
    report = (tmp_path / "run" / "report.md").read_text()
    assert "| top-1 | top-3 | top-5 |" in report and "## Most confused pairs" in report
    assert (tmp_path / "run" / "confusion.png").stat().st_size > 10_000
    assert json.loads((tmp_path / "run" / "options.json").read_text())["labels"] == labels


def test_the_report_at_345_categories_puts_confused_pairs_together(tmp_path):
    """345 real names; a confusion matrix where category i is confused with i + 172 (and a few
    random errors): the ordering puts each such pair side by side, the report lists the worst."""
    names = category_names()
    k = len(names)
    rng = np.random.default_rng(0)
    cm = np.diag(rng.integers(20, 40, k))
    for i in range(k // 2):
        j = i + k // 2
        cm[i, j] = cm[j, i] = 5 + i % 7
    cm += (rng.random((k, k)) < 0.01).astype(int)
    order = confusion_order(cm).tolist()
    assert sorted(order) == list(range(k))
    pos = {c: n for n, c in enumerate(order)}
    adjacent = sum(abs(pos[i] - pos[i + k // 2]) == 1 for i in range(k // 2))
    assert adjacent >= 0.9 * (k // 2)
    pairs = confused_pairs(cm, names)
    assert len(pairs) == 25
    off = cm - np.diag(np.diag(cm))
    assert pairs[0]["count"] == off.max()
    per = {n: float(cm[i, i] / cm[i].sum()) for i, n in enumerate(names)}
    metrics = {"top1": 0.5, "top3": 0.7, "top5": 0.8, "count": int(cm.sum()), "per_category_top1": per,
               "confusion_matrix": {"labels": names, "rows_true_cols_predicted": cm.tolist()}}
    write_report(tmp_path, metrics)
    md = (tmp_path / "report.md").read_text()
    assert "# Test report: 345 categories" in md and "The 20 weakest categories" in md
    worst = min(per, key=per.get)
    assert f"| {worst} |" in md
    assert (tmp_path / "confusion.png").stat().st_size > 20_000
    assert len(report_lines(metrics)) < 80  # readable: a page, not 345 rows


def test_confusion_png_bars_follow_the_share_they_show_and_no_text_is_cut():
    """30 real category names: every title, tick label and bar label lies inside the figure
    (the heatmap's title used to start left of it: "onfusion, 30 categories ..."), and the
    bars are in the order of the share the axis shows (they were in count order)."""
    from inkcast.training.sketch_report import bars_of, confused_pairs, confusion_figure

    names = category_names()[:30]
    rng = np.random.default_rng(3)
    rows = rng.integers(5, 60, 30)
    cm = np.diag(rows)
    for i in range(30):
        cm[i, (i + 1) % 30] = rng.integers(0, rows[i])  # counts and shares in different orders
    pairs = confused_pairs(cm, names)
    bars = bars_of(pairs)
    shares = [p["share_of_true"] for p in bars]
    assert shares == sorted(shares, reverse=True)
    assert [p["count"] for p in pairs] != [p["count"] for p in bars]  # the table keeps count order
    fig = confusion_figure(cm, names, pairs)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    width, height = fig.bbox.width, fig.bbox.height
    assert len(fig.axes) == 3  # heatmap, pairs, colour bar
    for ax in fig.axes:  # each with everything it draws: title, tick labels, bar labels
        box = ax.get_tightbbox(renderer)
        assert box.x0 >= -1 and box.x1 <= width + 1 and box.y0 >= -1 and box.y1 <= height + 1, (ax.get_title(), box)


def test_printed_forecast_figures_keep_four_significant_digits():
    """A temperature series' MAE of 2.106 was printed as "2" by the training log."""
    import inspect

    from inkcast.tasks.forecast import figure
    from inkcast.training import train_forecast

    assert figure(2.106) == "2.106" and figure(2.79) == "2.790" and figure(61776.8) == "61,777"
    assert figure(0.012345) == "0.01235"
    source = inspect.getsource(train_forecast)
    assert "mae']:.0f" not in source and "figure(test['model']['mae'])" in source
