"""Task specs: one per task, used by export, evaluate, bench and the CLI (see ``base.TaskSpec``)."""

from __future__ import annotations

from .base import EvalDataError, EvalInputs, Judgement, Reference, TaskSpec
from .forecast import ForecastSpec
from .sketch import SketchSpec

SPECS: dict[str, type[TaskSpec]] = {"sketch": SketchSpec, "forecast": ForecastSpec}


def spec_for(task: str) -> TaskSpec:
    """The spec of a task name (a manifest's or a run folder's ``task``)."""
    if task not in SPECS:
        raise EvalDataError(f"unknown task {task!r}; inkcast knows {', '.join(SPECS)}")
    return SPECS[task]()


__all__ = ["SPECS", "spec_for", "TaskSpec", "EvalInputs", "EvalDataError", "Reference", "Judgement",
           "SketchSpec", "ForecastSpec"]
