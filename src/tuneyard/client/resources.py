"""What the job service client returns, shaped like ``google.cloud.aiplatform_v1`` types.

A returned job is a :class:`tuneyard.model.HyperparameterTuningJob` (immutable, snake_case
attributes, enums with ``.name``), so ``job.state.name`` and
``job.trials[0].final_measurement.metrics[0].value`` read as they do on the proto-plus type, and
:meth:`HyperparameterTuningJob.to_dict` gives what proto-plus's ``to_dict`` gives: snake_case
keys, enums as numbers, int64 as strings, every scalar field present.

Answers are read leniently: fields a newer server sends that this client does not know are
dropped (logged at debug level), as Google's clients ignore unknown fields.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import ValidationError

from tuneyard.errors import Internal
from tuneyard.model import HyperparameterTuningJob as JobModel
from tuneyard.model import Operation as OperationModel
from tuneyard.model import VertexModel

logger = logging.getLogger(__name__)

M = TypeVar("M", bound=VertexModel)
_ROUNDS = 8


def proto_dict(
    value: VertexModel,
    *,
    use_integers_for_enums: bool = True,
    preserving_proto_field_name: bool = True,
) -> dict[str, Any]:
    """``value`` as proto-plus's ``Message.to_dict`` writes it.

    Args:
        value: any resource value.
        use_integers_for_enums: enums as numbers (True, proto-plus's default) or names.
        preserving_proto_field_name: snake_case keys (True) or camelCase.
    """
    data: dict[str, Any] = value.model_dump(
        mode="json",
        by_alias=not preserving_proto_field_name,
        exclude_none=True,
        context={"enum_int": use_integers_for_enums},
    )
    return data


class HyperparameterTuningJob(JobModel):
    """A job as the service returned it (``aiplatform_v1.types.HyperparameterTuningJob``).

    Example:
        >>> job = client.get_hyperparameter_tuning_job(name=name)  # doctest: +SKIP
        >>> job.state.name, job.trials[0].final_measurement.metrics[0].value  # doctest: +SKIP
        ('JOB_STATE_SUCCEEDED', 0.97)
    """

    def to_dict(
        self, *, use_integers_for_enums: bool = True, preserving_proto_field_name: bool = True
    ) -> dict[str, Any]:
        """This job as proto-plus's ``to_dict``: snake_case keys, enum numbers.

        Works as ``job.to_dict()`` and as ``HyperparameterTuningJob.to_dict(job)``, the way
        Airflow's operators call it.
        """
        return proto_dict(
            self,
            use_integers_for_enums=use_integers_for_enums,
            preserving_proto_field_name=preserving_proto_field_name,
        )


@dataclass(frozen=True)
class ListHyperparameterTuningJobsResponse:
    """One page of ``ListHyperparameterTuningJobs``."""

    hyperparameter_tuning_jobs: list[HyperparameterTuningJob] = field(default_factory=list)
    next_page_token: str = ""


def _drop(data: Any, loc: tuple[int | str, ...]) -> bool:
    target = data
    for part in loc[:-1]:
        try:
            target = target[part]
        except (KeyError, IndexError, TypeError):
            return False
    if isinstance(target, dict) and loc and loc[-1] in target:
        del target[loc[-1]]
        return True
    return False


def read_answer(cls: type[M], data: dict[str, Any], what: str) -> M:
    """Build ``cls`` from a server answer, dropping fields this client does not know.

    Raises:
        Internal: the answer does not fit ``cls`` even without its unknown fields.
    """
    for _ in range(_ROUNDS):
        try:
            return cls.model_validate(data)
        except ValidationError as error:
            unknown = [e["loc"] for e in error.errors() if e["type"] == "extra_forbidden"]
            if not unknown or not all(_drop(data, loc) for loc in unknown):
                raise Internal(
                    f"the server's answer to {what} is not understood: {error}"
                ) from None
            logger.debug("ignored unknown fields in the answer to %s: %s", what, unknown)
    raise Internal(f"the server's answer to {what} has too many unknown fields")


def read_job(data: dict[str, Any], what: str = "a job request") -> HyperparameterTuningJob:
    """A job from the server's JSON."""
    return read_answer(HyperparameterTuningJob, data, what)


def read_list(data: dict[str, Any]) -> ListHyperparameterTuningJobsResponse:
    """A list page from the server's JSON."""
    jobs = [read_job(j, "a list request") for j in data.get("hyperparameterTuningJobs") or []]
    return ListHyperparameterTuningJobsResponse(jobs, str(data.get("nextPageToken") or ""))


def read_operation(data: dict[str, Any]) -> OperationModel:
    """A long-running operation from the server's JSON."""
    return read_answer(OperationModel, data, "an operation request")


__all__ = [
    "HyperparameterTuningJob",
    "ListHyperparameterTuningJobsResponse",
    "proto_dict",
    "read_answer",
    "read_job",
    "read_list",
    "read_operation",
]
