"""Named defaults for known series files: the columns and split dates their figures were measured on.

Any CSV trains without options: its one date column and one numeric column are found, and the
splits are proportions of the series (``forecast_splits.resolve_periods``). A file that has
published figures keeps them reproducible with a recipe: ``recipe="auto"`` applies the recipe whose
header matches the file exactly, ``recipe="none"`` none, a name that recipe. A recipe only fills
options left unset (None); every explicit option wins. The run's ``metrics.json`` records the
recipe used.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inkcast.data.series_csv import read_header
from inkcast.runtime.errors import BadInputError

from .forecast_options import ForecastOptions


@dataclass(frozen=True)
class Recipe:
    """A known file (recognized by its exact header) and the options it implies."""

    name: str
    header: tuple[str, ...]
    options: dict[str, Any] = field(default_factory=dict)
    about: str = ""


RECIPES = (
    Recipe(
        name="cta-rail",
        header=("service_date", "day_type", "bus", "rail_boardings", "total_rides"),
        options={"date_column": "service_date", "value_column": "rail_boardings",
                 "train_start": "2016-01-01", "train_end": "2018-12-31", "val_start": "2019-01-01",
                 "val_end": "2019-05-31", "test_start": "2019-06-01", "test_end": "2019-12-31"},
        about="Chicago Transit Authority daily boarding totals (data.cityofchicago.org): rail boardings, "
              "trained on 2016-2018, validated on 2019-01..05, tested on 2019-06..12 (before COVID-19)",
    ),
)


def find_recipe(name: str) -> Recipe:
    for r in RECIPES:
        if r.name == name:
            return r
    raise BadInputError(f"no forecast recipe {name!r}; known: auto, none, " + ", ".join(r.name for r in RECIPES))


def apply_recipe(options: ForecastOptions, path: str | Path) -> tuple[ForecastOptions, Recipe | None]:
    """The options with the matching recipe's values filled in where unset, and the recipe (or None)."""
    if options.recipe == "none":
        return options, None
    if options.recipe == "auto":
        header = tuple(read_header(path))
        recipe = next((r for r in RECIPES if r.header == header), None)
        if recipe is None:
            return options, None
    else:
        recipe = find_recipe(options.recipe)
    current = options.to_dict()
    # Split dates come as a set: a user who gives any split date chooses the splits themselves.
    dates = [k for k in recipe.options if k.endswith(("_start", "_end"))]
    own_dates = any(current[k] is not None for k in dates)
    filled = {k: v for k, v in recipe.options.items()
              if current.get(k) is None and not (own_dates and k in dates)}
    return options.replace(**filled), recipe
