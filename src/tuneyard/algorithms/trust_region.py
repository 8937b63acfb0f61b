"""A TuRBO-like trust region for the acquisition search of the default algorithm.

Expected improvement over the whole space keeps sending points to unexplored corners, most in 4
and 8 dimensions, long after the model has found the basin of the best value. TuRBO (Eriksson et
al., 2019) searches the acquisition only in a box around the best observation instead, whose side
grows after consecutive improvements and shrinks after consecutive failures, each dimension
scaled by the GP's length scale. :class:`~tuneyard.algorithms.acquisition.TunedGPSampler` does
the same with GPSampler's model and log EI (or q-batch log EI with running trials): its side is
replayed from the order of the finished trials (:func:`trust_length`), so the algorithm stays
stateless, and the search maps the box onto the unit cube (:class:`Boxed`). docs/algorithms.md
has what it did on the benchmark.

Only single-objective, unconstrained acquisition functions (Optuna's ``LogEI`` and ``qLogEI``)
are recognized; :func:`model_of` returns None for the others, which search the whole space.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Model:
    """What an acquisition function was built from.

    Attributes:
        gpr: the GP fitted to the finished trials (Optuna's ``GPRegressor``; maximization of
            standardized values, in the order of the trials).
    """

    gpr: Any


def model_of(acqf: Any) -> Model | None:
    """The GP of Optuna's ``LogEI`` or ``qLogEI``, else None."""
    from optuna._gp import acqf as acqf_module

    if type(acqf) is acqf_module.LogEI:
        return Model(acqf._gpr)
    if type(acqf) is acqf_module.qLogEI:
        return Model(acqf._cond_gpr._gpr)
    return None


TRUST_LENGTHS = (0.8, 2.0**-7, 1.6)
"""Initial, smallest and largest side of the trust region, in the unit cube (TuRBO's)."""

TRUST_SUCCESSES = 3
"""Consecutive improvements that double the trust region."""


def trust_length(model: Model, startup: int, floor: float | None = None) -> float:
    """The side of the trust region, replayed from the order of the finished trials.

    TuRBO's rule: the side doubles after :data:`TRUST_SUCCESSES` consecutive improvements of the
    best value and halves after ``max(4, dim)`` consecutive failures; below the smallest side it
    starts over (with ``floor``, it stops halving there instead). Replaying the history keeps
    the algorithm stateless.
    """
    initial, smallest, largest = TRUST_LENGTHS
    y = model.gpr._y_train.detach().cpu().numpy().reshape(-1)
    patience = max(4, int(model.gpr._X_train.shape[1]))
    if len(y) <= startup:
        return initial
    length, successes, failures, best = initial, 0, 0, float(y[:startup].max())
    for value in y[startup:]:
        if value > best + 1e-3:
            successes, failures = successes + 1, 0
        else:
            successes, failures = 0, failures + 1
        best = max(best, float(value))
        if successes >= TRUST_SUCCESSES:
            length, successes = min(2 * length, largest), 0
        elif failures >= patience:
            length, failures = length / 2, 0
            if floor is not None:
                length = max(length, floor)
        if length < smallest:
            length = initial
    return length


def trust_box(model: Model, continuous: np.ndarray, length: float) -> tuple[np.ndarray, np.ndarray]:
    """Bounds (normalized) of the trust region around the best observation.

    Each continuous dimension's side is ``length`` times its GP length scale over their geometric
    mean, as in TuRBO; the other dimensions keep [0, 1].
    """
    x = model.gpr._X_train.detach().cpu().numpy()
    y = model.gpr._y_train.detach().cpu().numpy().reshape(-1)
    centre = x[int(np.argmax(y))]
    low, high = np.zeros(x.shape[1]), np.ones(x.shape[1])
    if len(continuous):
        scales = np.asarray(model.gpr.length_scales, dtype=float)[continuous]
        weights = scales / np.exp(np.mean(np.log(scales)))
        half = length * weights / 2
        low[continuous] = np.clip(centre[continuous] - half, 0.0, 1.0)
        high[continuous] = np.clip(centre[continuous] + half, 0.0, 1.0)
    return low, high


class Boxed:
    """An acquisition function of the unit cube mapped onto a box: ``u -> inner(low + u * width)``.

    The local search keeps its points in [0, 1], so searching this function searches the box,
    with bounds the optimizer handles itself (clipping the inner function's arguments instead
    left flat directions outside the box and doubled the search's time). The length scales are
    rescaled to the box, so the search's preconditioning still fits. It quacks like Optuna's
    ``BaseAcquisitionFunc`` (``eval_acqf``, ``eval_acqf_no_grad``, ``eval_acqf_with_grad``,
    ``length_scales``, ``search_space``), which is all the local search uses. Dimensions that are
    not continuous have the box [0, 1], which maps them onto themselves.
    """

    def __init__(self, inner: Any, low: np.ndarray, high: np.ndarray) -> None:
        self.inner = inner
        self.low = low
        self.width = np.maximum(high - low, 1e-12)
        self.length_scales = np.asarray(inner.length_scales) / self.width
        self.search_space = inner.search_space

    def to_box(self, u: np.ndarray) -> np.ndarray:
        """Points of the box from points of the unit cube."""
        return np.asarray(self.low + np.clip(u, 0.0, 1.0) * self.width)

    def to_cube(self, x: np.ndarray) -> np.ndarray:
        """Points of the unit cube from points (clipped into the box)."""
        return np.asarray(np.clip((x - self.low) / self.width, 0.0, 1.0))

    def eval_acqf(self, u: Any) -> Any:
        import torch

        low = torch.from_numpy(self.low)
        width = torch.from_numpy(self.width)
        return self.inner.eval_acqf(low + u * width)

    def eval_acqf_no_grad(self, u: np.ndarray) -> np.ndarray:
        import torch

        with torch.no_grad():
            return np.asarray(self.eval_acqf(torch.from_numpy(u)).detach().numpy())

    def eval_acqf_with_grad(self, u: np.ndarray) -> tuple[float, np.ndarray]:
        import torch

        tensor = torch.from_numpy(u).requires_grad_(True)
        value = self.eval_acqf(tensor)
        value.backward()
        assert tensor.grad is not None
        return float(value.item()), tensor.grad.detach().numpy()
