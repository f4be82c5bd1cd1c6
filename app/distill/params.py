"""Parameter models of the demos (pydantic, torch-free): the shared fields, each one
``Annotated`` type, and the bases that the methods' own models extend.

Every field has a default, bounds and help text; the bounds keep any run small (at
most 30 epochs per phase, 8 seeds, at least 8 samples a batch, 8×8 images).
``extra="forbid"``: a misspelt parameter is an error, not silently ignored.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

SPLIT_TEXT = (
    "Each seed splits the 1,797 digits per class: 359 test (20%, reported at the end, "
    "never used to choose anything), 269 validation (15%, the curves and the best-epoch "
    "choice) and a pool of 1,169 to train on."
)

Temperature = Annotated[float, Field(ge=1.0, le=20.0, description="Softmax temperature T.")]
Alpha = Annotated[float, Field(
    ge=0.0, le=1.0, description="Weight α of the distillation term; CE gets 1 − α.")]
Epochs = Annotated[int, Field(ge=1, le=30, description="Passes over the training subset.")]
LossWeight = Annotated[float, Field(ge=0.0, le=1000.0, description="Weight of the term.")]


class CommonParams(BaseModel):
    """What every run has: the optimiser, the data and the seeds."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    epochs: Epochs = 20
    batch_size: int = Field(16, ge=8, le=256, description="Samples per optimiser step.")
    lr: float = Field(
        0.05, ge=1e-4, le=0.5,
        description="SGD learning rate (momentum 0.9, cosine decay to 0 over the phase).",
    )
    weight_decay: float = Field(5e-4, ge=0.0, le=0.01, description="SGD weight decay.")
    train_fraction: float = Field(
        0.1, ge=0.02, le=1.0,
        description="Share of each seed's training pool of 1,169 digits used (stratified; "
        "validation and test never change for a seed). With all of them every method is "
        "near 98%; with 10% (119 digits) there is room to differ.",
    )
    seed: int = Field(
        0, ge=0, le=1_000_000,
        description="The first seed. A seed fixes its split, initial weights and batch order.",
    )
    seeds: int = Field(
        5, ge=1, le=8,
        description="How many seeds to train together: seed, seed+1, … Each gives one "
        "paired difference between the method and its baseline; the verdict rests on "
        "their 95% confidence interval.",
    )

    def seed_list(self) -> list[int]:
        return list(range(self.seed, self.seed + self.seeds))


class LockstepParams(CommonParams):
    baseline: bool = Field(
        True,
        description="Also train the control: plain cross-entropy from the same initial "
        "weights on the same batches, in the same order, for as many optimiser steps.",
    )
    arms: bool = Field(
        True,
        description="Also train the comparator arms that the method's claims name, where "
        "a claim is against another method (the KD student with the same teacher, LSR, "
        "BYOT): that method's student at its defaults, on the same seeds, so the same "
        "splits, initial weights, batches and cached teacher.",
    )


class TeacherParams(LockstepParams):
    teacher_epochs: int = Field(
        15, ge=1, le=30,
        description="Epochs of the teacher's own training (one teacher per seed, cached "
        "under the data dir).",
    )
