"""How long a sketch run trains: a step budget fitted to the data, cut into evaluated epochs.

A fixed count of passes starves small sets (a few hundred drawings get a few hundred optimizer
steps) and never ends on huge ones. The default therefore budgets optimizer steps: the
``budget_epochs`` passes of the tuned default, raised to ``min_steps`` for a small set and
capped at ``max_steps`` for a large one (docs/RESULTS.md, "Training length"). The run is always
cut into Keras epochs: each is evaluated, checkpointed, and takes one step of the cosine decay,
so a small set's epoch is several whole passes and a capped set's epoch part of one."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Schedule:
    """The chosen length: ``epochs`` of ``steps`` optimizer steps each.

    ``passes``: whole passes over the training split an epoch (1 when an epoch is a truncated
    pass); ``batches_per_pass``: the batches a pass yields; ``rule``: why this length ("epochs":
    given; "budget": the default passes; "floor": raised for a small set; "cap": cut for a
    large one)."""

    epochs: int
    steps: int
    passes: int
    batches_per_pass: int
    rule: str

    @property
    def total_steps(self) -> int:
        return self.epochs * self.steps

    @property
    def passes_total(self) -> float:
        """Passes over the training split in the whole run (a fraction when capped)."""
        return self.total_steps / max(self.batches_per_pass, 1)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "total_steps": self.total_steps, "passes_total": round(self.passes_total, 3)}

    @property
    def longer(self) -> str:
        """The option that trains longer under this rule (for the still-rising warning)."""
        return {"epochs": "--epochs", "cap": "--max-steps"}.get(self.rule, "--min-steps")

    def describe(self, drawings: int, batch_size: int) -> str:
        """One line for the progress output: what was chosen and why."""
        why = {"epochs": "--epochs given",
               "budget": "the default passes fit the step budget",
               "floor": "raised to the step floor: a small set needs more steps than its passes give",
               "cap": "capped: a pass over this set is longer than the step budget"}[self.rule]
        return (f"schedule: {self.epochs} epochs x {self.steps} steps of {batch_size} = {self.total_steps} steps, "
                f"{self.passes_total:.3g} passes over {drawings} training drawings ({why})")


# The default rule's numbers (SketchTrainOptions takes its defaults from here).
BUDGET_EPOCHS = 24
MIN_STEPS = 12_000
MAX_STEPS = 100_000


def plan_schedule(batches_per_pass: int, epochs: int | None = None, budget_epochs: int = BUDGET_EPOCHS,
                  min_steps: int = MIN_STEPS, max_steps: int = MAX_STEPS) -> Schedule:
    """The schedule of a run whose training pass is ``batches_per_pass`` batches.

    ``epochs`` given: exactly that many passes (the old fixed rule). Otherwise ``budget_epochs``
    passes, unless that is fewer than ``min_steps`` steps (then each epoch is the fewest whole
    passes that reach the floor in ``budget_epochs`` epochs, and the run the fewest such epochs
    that do) or more than ``max_steps`` (then each epoch is a ``max_steps /
    budget_epochs``-step part of a pass)."""
    if batches_per_pass < 1:
        raise ValueError("the training split gives no batches")
    if epochs is not None:
        if epochs < 1:
            raise ValueError(f"epochs must be at least 1, got {epochs}")
        return Schedule(epochs, batches_per_pass, 1, batches_per_pass, "epochs")
    if budget_epochs < 1 or min_steps < 0 or max_steps < max(min_steps, budget_epochs):
        raise ValueError(f"a step budget needs budget_epochs >= 1 and min_steps <= max_steps "
                         f"(got {budget_epochs}, {min_steps}, {max_steps})")
    total = budget_epochs * batches_per_pass
    if total < min_steps:
        # Whole passes an epoch, so every epoch sees each drawing alike; then the fewest such
        # epochs that reach the floor, so a set just short of it is not trained twice as long.
        passes = -(-min_steps // total)
        epochs_needed = -(-min_steps // (passes * batches_per_pass))
        return Schedule(epochs_needed, passes * batches_per_pass, passes, batches_per_pass, "floor")
    if total > max_steps:
        return Schedule(budget_epochs, max_steps // budget_epochs, 1, batches_per_pass, "cap")
    return Schedule(budget_epochs, batches_per_pass, 1, batches_per_pass, "budget")
