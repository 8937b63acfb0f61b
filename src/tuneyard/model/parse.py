"""Reading resources from Vertex JSON and YAML, with errors that name the field path."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import ValidationError

from tuneyard.errors import FieldViolation, InvalidArgument
from tuneyard.model._base import VertexModel
from tuneyard.model.job import OUTPUT_ONLY_JOB_FIELDS, HyperparameterTuningJob

M = TypeVar("M", bound=VertexModel)


def field_path(loc: tuple[int | str, ...], prefix: str = "") -> str:
    """Format a pydantic location as ``studySpec.parameters[2].minValue``."""
    path = prefix
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part in ("function-before[_parse_integer(), int]",):
            continue
        else:
            path = f"{path}.{part}" if path else str(part)
    return path


def _violations(error: ValidationError, prefix: str) -> list[FieldViolation]:
    violations = []
    for item in error.errors(include_url=False):
        loc = tuple(p for p in item["loc"] if not (isinstance(p, str) and "[" in p and "(" in p))
        path = field_path(loc, prefix)
        if item["type"] == "extra_forbidden":
            description = "unknown field"
        else:
            message = str(item["msg"])
            description = message.removeprefix("Value error, ")
        violations.append(FieldViolation(path, description))
    return violations


def parse_resource(cls: type[M], data: Any, *, prefix: str = "") -> M:
    """Build ``cls`` from decoded JSON/YAML, raising InvalidArgument naming each bad field."""
    if not isinstance(data, dict):
        raise InvalidArgument([FieldViolation(prefix, f"expected a JSON object, got {data!r}")])
    try:
        return cls.model_validate(data)
    except ValidationError as error:
        raise InvalidArgument(_violations(error, prefix)) from error


def job_from_dict(data: Any, *, drop_output_only: bool = True) -> HyperparameterTuningJob:
    """Read a HyperparameterTuningJob from decoded JSON or YAML (camelCase or snake_case).

    Output-only fields (name, state, trials, times, error) are ignored when ``drop_output_only``,
    as Google's API does for create requests.
    """
    job = parse_resource(HyperparameterTuningJob, data)
    if drop_output_only:
        job = HyperparameterTuningJob.model_validate(
            job.model_dump(exclude=set(OUTPUT_ONLY_JOB_FIELDS), exclude_defaults=True)
        )
    return job


def load_job_file(path: str | Path) -> HyperparameterTuningJob:
    """Read a job from a ``.json``, ``.yaml`` or ``.yml`` file.

    Example:
        >>> job = load_job_file("examples/job.yaml")  # doctest: +SKIP
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise InvalidArgument(f"cannot read job file {path}: {error.strerror}") from error
    try:
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as error:
        kind = "JSON" if path.suffix == ".json" else "YAML"
        raise InvalidArgument(f"{path} is not valid {kind}: {error}") from error
    return job_from_dict(data)
