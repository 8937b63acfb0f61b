"""Our trials as an in-memory Optuna study, rebuilt from scratch on every suggestion.

Nothing Optuna holds survives a call: the algorithms stay stateless, and a restarted engine or a
second server suggests exactly what the first one would. Each of our trials becomes one Optuna
trial, in the order given:

==============================================  ==========================================
our trial                                       Optuna trial
==============================================  ==========================================
SUCCEEDED with a finite value for every metric  COMPLETE, values in metric order
SUCCEEDED without one, INFEASIBLE               FAIL (samplers learn nothing from it)
REQUESTED, ACTIVE, STOPPING, STATE_UNSPECIFIED  RUNNING, so samplers can treat it as pending
==============================================  ==========================================

Parameter values go through :class:`~tuneyard.algorithms.space.SearchSpace`, so reverse-log and
DISCRETE values reach Optuna in the form its distributions hold.
"""

from __future__ import annotations

import copy
import datetime
import math
import threading
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import optuna
from optuna.samplers import BaseSampler
from optuna.study import StudyDirection
from optuna.trial import FrozenTrial
from optuna.trial import TrialState as OptunaTrialState

from tuneyard.algorithms.space import SearchSpace
from tuneyard.model import StudySpec, Trial, TrialState

_quiet_lock = threading.Lock()
_quiet_depth = 0
_saved_verbosity = optuna.logging.INFO


@contextmanager
def quiet_optuna() -> Iterator[None]:
    """Run Optuna without its INFO logs and experimental-feature warnings.

    Optuna's log level is raised to WARNING only while at least one caller is inside, then
    restored, so importing tuneyard changes nothing about a user's Optuna; a count keeps
    overlapping threads from restoring too early. Warnings are filtered with
    :func:`warnings.catch_warnings`, which is process-wide: another thread may briefly share it.
    """
    global _quiet_depth, _saved_verbosity
    with _quiet_lock:
        if _quiet_depth == 0:
            _saved_verbosity = optuna.logging.get_verbosity()
            optuna.logging.set_verbosity(max(_saved_verbosity, optuna.logging.WARNING))
        _quiet_depth += 1
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            yield
    finally:
        with _quiet_lock:
            _quiet_depth -= 1
            if _quiet_depth == 0:
                optuna.logging.set_verbosity(_saved_verbosity)


def derive_seed(seed: int, trials: Sequence[Trial]) -> int:
    """A sampler seed that depends on the job's seed and on how many trials exist.

    Each call then draws fresh random numbers, yet the same arguments give the same seed.
    """
    entropy = [seed & 0xFFFF_FFFF_FFFF_FFFF, len(trials)]
    return int(np.random.SeedSequence(entropy).generate_state(1, dtype=np.uint32)[0])


def objective_values(study: StudySpec, trial: Trial) -> list[float] | None:
    """The final value of each metric in metric order, or None when any is missing or not finite."""
    if trial.state != TrialState.SUCCEEDED or trial.final_measurement is None or not study.metrics:
        return None
    values = [trial.final_measurement.value(metric.metric_id) for metric in study.metrics]
    if any(v is None or not math.isfinite(v) for v in values):
        return None
    return [float(v) for v in values if v is not None]


class _OwnedTrial(FrozenTrial):
    """A FrozenTrial that Optuna's in-memory storage copies shallowly.

    ``InMemoryStorage.create_new_trial`` deep-copies the trial it is given, to protect the
    caller's object; that copy was ~10 ms of a suggestion at 100 trials. These trials are built
    for one study and never shared, so the copy only needs its own containers (the storage sets
    the copy's number and id, and may add attributes); the distributions, frozen values, are
    shared.
    """

    def __deepcopy__(self, memo: dict[int, Any]) -> _OwnedTrial:
        clone = copy.copy(self)
        for name, value in vars(self).items():
            if isinstance(value, (dict, list)):
                setattr(clone, name, copy.copy(value))
        return clone


def _frozen(study: StudySpec, space: SearchSpace, trial: Trial) -> FrozenTrial:
    """The Optuna trial of ``trial`` (what :func:`optuna.trial.create_trial` builds, unvalidated).

    ``create_trial``'s checks are skipped: ``space`` built the parameters and distributions.
    """
    params, distributions = space.encode(trial.parameter_dict())
    if trial.state in (TrialState.SUCCEEDED, TrialState.INFEASIBLE):
        values = objective_values(study, trial)
        state = OptunaTrialState.FAIL if values is None else OptunaTrialState.COMPLETE
    else:
        state, values = OptunaTrialState.RUNNING, None
    now = datetime.datetime.now()
    return _OwnedTrial(
        number=-1,
        trial_id=-1,
        state=state,
        value=None,
        values=values,
        datetime_start=now,
        datetime_complete=now if state.is_finished() else None,
        params=params,
        distributions=distributions,
        user_attrs={},
        system_attrs={},
        intermediate_values={},
    )


def rebuild_study(
    study: StudySpec, space: SearchSpace, trials: Sequence[Trial], sampler: BaseSampler
) -> optuna.Study:
    """An in-memory Optuna study with ``sampler`` holding every trial in ``trials``.

    Call inside :func:`quiet_optuna`.
    """
    directions = [
        StudyDirection.MINIMIZE if metric.minimize else StudyDirection.MAXIMIZE
        for metric in study.metrics
    ] or [StudyDirection.MAXIMIZE]
    optuna_study = optuna.create_study(sampler=sampler, directions=directions)
    optuna_study.add_trials([_frozen(study, space, trial) for trial in trials])
    return optuna_study
