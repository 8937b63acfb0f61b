"""Reading jobs from Vertex JSON and YAML: job_from_dict, parse_resource, load_job_file."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.model.conftest import full_job, sdk_create_body, valid_job
from tuneyard.errors import InvalidArgument
from tuneyard.model import (
    AcceleratorType,
    Algorithm,
    GoalType,
    HyperparameterTuningJob,
    JobState,
    MeasurementSelectionType,
    ScaleType,
    StudySpec,
    job_from_dict,
    load_job_file,
    parse_resource,
    validate_job,
)


def test_sdk_create_body_parses_with_numbers_strings_and_absent_zeros() -> None:
    job = job_from_dict(sdk_create_body())
    study = job.study
    assert [(m.metric_id, m.goal) for m in study.metrics] == [
        ("accuracy", GoalType.MAXIMIZE),
        ("loss", GoalType.MINIMIZE),
    ]
    lr, units, activation, batch_size = study.parameters
    assert lr.scale_type is ScaleType.UNIT_LOG_SCALE
    assert (units.integer_value_spec is not None) and (units.integer_value_spec.min_value == 4)
    assert units.integer_value_spec.max_value == 128
    [alpha] = activation.conditional_parameter_specs
    assert alpha.parameter_spec is not None and alpha.parameter_spec.double_value_spec is not None
    assert alpha.parameter_spec.double_value_spec.min_value == 0.0
    assert alpha.parameter_spec.double_value_spec.max_value == 1.0
    assert alpha.parent_categorical_values is not None
    assert alpha.parent_categorical_values.values == ["selu"]
    assert batch_size.discrete_value_spec is not None
    assert batch_size.discrete_value_spec.values == [16.0, 32.0, 64.0]
    assert study.algorithm is Algorithm.RANDOM_SEARCH
    assert study.measurement_selection_type is MeasurementSelectionType.BEST_MEASUREMENT
    assert (job.max_trial_count, job.parallel_trial_count) == (4, 2)
    assert job.max_failed_trial_count == 0
    [primary] = job.trial_spec.worker_pool_specs
    assert primary.replica_count == 1
    assert primary.machine_spec is not None
    assert primary.machine_spec.accelerator_type is AcceleratorType.NVIDIA_TESLA_T4
    assert job.trial_spec.scheduling is not None
    assert job.trial_spec.scheduling.timeout is not None
    assert job.trial_spec.scheduling.timeout.total_seconds() == 3600
    assert job.labels == {"team": "ml"}


def test_sdk_create_body_validates_without_notices() -> None:
    assert validate_job(job_from_dict(sdk_create_body())) == []


def test_sdk_create_body_is_written_back_exactly_with_numeric_enums() -> None:
    assert job_from_dict(sdk_create_body()).to_json_dict(enum_int=True) == sdk_create_body()


def test_sdk_create_body_is_written_with_enum_names_by_default() -> None:
    written = job_from_dict(sdk_create_body()).to_json_dict()
    assert written["studySpec"]["metrics"][1] == {"metricId": "loss", "goal": "MINIMIZE"}
    assert written["studySpec"]["algorithm"] == "RANDOM_SEARCH"
    assert written["studySpec"]["parameters"][0]["scaleType"] == "UNIT_LOG_SCALE"
    pool = written["trialJobSpec"]["workerPoolSpecs"][0]
    assert pool["machineSpec"]["acceleratorType"] == "NVIDIA_TESLA_T4"
    assert pool["replicaCount"] == "1"


@pytest.mark.parametrize(
    ("path", "name", "number"),
    [
        (("studySpec", "algorithm"), "GRID_SEARCH", 2),
        (("studySpec", "measurementSelectionType"), "LAST_MEASUREMENT", 1),
        (("studySpec", "metrics", 0, "goal"), "MINIMIZE", 2),
        (("studySpec", "parameters", 0, "scaleType"), "UNIT_REVERSE_LOG_SCALE", 3),
        (("trialJobSpec", "workerPoolSpecs", 0, "machineSpec", "acceleratorType"), "NVIDIA_L4", 11),
        (("state",), "JOB_STATE_RUNNING", 3),
    ],
)
def test_enum_names_and_numbers_parse_alike(
    path: tuple[str | int, ...], name: str, number: int
) -> None:
    def with_value(value: Any) -> HyperparameterTuningJob:
        data = full_job()
        target: Any = data
        for part in path[:-1]:
            target = target[part]
        target[path[-1]] = value
        return parse_resource(HyperparameterTuningJob, data)

    assert with_value(name) == with_value(number) == with_value(str(number))


@pytest.mark.parametrize(
    ("data", "path"),
    [
        ({"studySpec": {"algorithm": "BAYESIAN"}}, "studySpec.algorithm"),
        ({"studySpec": {"algorithm": 1}}, "studySpec.algorithm"),
        ({"studySpec": {"metrics": [{"goal": 9}]}}, "studySpec.metrics[0].goal"),
        (
            {"trialJobSpec": {"scheduling": {"strategy": "CHEAP"}}},
            "trialJobSpec.scheduling.strategy",
        ),
        ({"state": "JOB_STATE_DONE"}, "state"),
    ],
)
def test_unknown_enum_values_are_invalid_arguments_naming_the_path(
    data: dict[str, Any], path: str
) -> None:
    with pytest.raises(InvalidArgument) as info:
        job_from_dict(data)
    [violation] = info.value.violations
    assert violation.field == path
    assert "is not a valid" in violation.description
    assert "expected one of" in violation.description


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _to_snake_case(data: Any) -> Any:
    """Rename every field to snake_case, leaving map keys (labels, URIs, details) alone."""
    if isinstance(data, list):
        return [_to_snake_case(item) for item in data]
    if not isinstance(data, dict):
        return data
    renamed = {}
    for key, value in data.items():
        if key in ("labels", "webAccessUris", "details"):
            renamed[_snake(key)] = value
        else:
            renamed[_snake(key)] = _to_snake_case(value)
    return renamed


def test_snake_case_input_reads_like_camel_case() -> None:
    snake = _to_snake_case(full_job())
    assert "study_spec" in snake and "trial_job_spec" in snake
    assert parse_resource(HyperparameterTuningJob, snake) == parse_resource(
        HyperparameterTuningJob, full_job()
    )
    assert job_from_dict(_to_snake_case(sdk_create_body())) == job_from_dict(sdk_create_body())


def test_snake_case_input_is_written_back_in_camel_case() -> None:
    job = parse_resource(HyperparameterTuningJob, _to_snake_case(full_job()))
    assert job.to_json_dict() == full_job()


@pytest.mark.parametrize(
    ("data", "path"),
    [
        (valid_job(fooBar=1), "fooBar"),
        (valid_job(display_name_typo="x"), "display_name_typo"),
        (
            valid_job(studySpec={"metrics": [], "parameters": [], "searchAlgorithm": 2}),
            "studySpec.searchAlgorithm",
        ),
        (
            valid_job(
                studySpec={
                    "metrics": [],
                    "parameters": [
                        {"parameterId": "x", "doubleValueSpec": {"minValue": 0, "step": 0.1}}
                    ],
                }
            ),
            "studySpec.parameters[0].doubleValueSpec.step",
        ),
        (
            valid_job(trialJobSpec={"workerPoolSpecs": [{"containerSpec": {"image": "x"}}]}),
            "trialJobSpec.workerPoolSpecs[0].containerSpec.image",
        ),
    ],
)
def test_unknown_fields_are_refused_with_their_path(data: dict[str, Any], path: str) -> None:
    with pytest.raises(InvalidArgument) as info:
        job_from_dict(data)
    [violation] = info.value.violations
    assert (violation.field, violation.description) == (path, "unknown field")


def test_every_bad_field_is_reported_at_once() -> None:
    data = valid_job(unknownA=1, displayName=5, maxTrialCount="many")
    data["studySpec"]["metrics"][0]["goal"] = "HIGHER"
    with pytest.raises(InvalidArgument) as info:
        job_from_dict(data)
    fields = sorted(v.field for v in info.value.violations)
    assert fields == ["displayName", "maxTrialCount", "studySpec.metrics[0].goal", "unknownA"]
    for field in fields:
        assert field in str(info.value)


def test_wrong_types_name_the_field() -> None:
    with pytest.raises(InvalidArgument) as info:
        job_from_dict(valid_job(labels={"team": 7}))
    [violation] = info.value.violations
    assert violation.field == "labels.team"
    assert "string" in violation.description


@pytest.mark.parametrize("data", [None, [], "job", 3])
def test_a_job_must_be_an_object(data: Any) -> None:
    with pytest.raises(InvalidArgument, match="expected a JSON object"):
        job_from_dict(data)


def test_parse_resource_prefixes_paths() -> None:
    with pytest.raises(InvalidArgument) as info:
        parse_resource(StudySpec, {"metrics": [{"goal": "UP"}]}, prefix="studySpec")
    assert [v.field for v in info.value.violations] == ["studySpec.metrics[0].goal"]
    with pytest.raises(InvalidArgument) as info:
        parse_resource(StudySpec, "nope", prefix="studySpec")
    assert [v.field for v in info.value.violations] == ["studySpec"]


def test_invalid_argument_is_http_400() -> None:
    with pytest.raises(InvalidArgument) as info:
        job_from_dict({"nope": 1})
    assert info.value.http_status == 400
    assert info.value.code.name == "INVALID_ARGUMENT"


def test_job_from_dict_drops_output_only_fields() -> None:
    job = job_from_dict(full_job())
    assert job.name == ""
    assert job.trials == []
    assert job.state is JobState.JOB_STATE_UNSPECIFIED
    assert job.create_time is None and job.start_time is None
    assert job.end_time is None and job.update_time is None
    assert job.error is None
    assert not job.satisfies_pzs and not job.satisfies_pzi
    written = job.to_json_dict()
    expected = full_job()
    for field in (
        "name",
        "trials",
        "state",
        "createTime",
        "startTime",
        "endTime",
        "updateTime",
        "error",
        "satisfiesPzs",
        "satisfiesPzi",
    ):
        del expected[field]
    assert written == expected


def test_job_from_dict_keeps_output_only_fields_when_asked() -> None:
    job = job_from_dict(full_job(), drop_output_only=False)
    assert job.state is JobState.JOB_STATE_SUCCEEDED
    assert [t.id for t in job.trials] == ["1", "2"]
    assert job.to_json_dict() == full_job()


def test_output_only_fields_are_still_parsed_before_being_dropped() -> None:
    # A malformed output-only field is still malformed JSON for the message.
    with pytest.raises(InvalidArgument) as info:
        job_from_dict(valid_job(createTime=1767225600))
    assert [v.field for v in info.value.violations] == ["createTime"]


EXAMPLE_YAML = """
displayName: from-yaml
labels: {team: ml}
studySpec:
  metrics:
    - metricId: accuracy
      goal: MAXIMIZE
  parameters:
    - parameterId: lr
      doubleValueSpec: {minValue: 1e-4, maxValue: 1.0e-1}  # YAML 1.1 reads 1e-4 as a string
      scaleType: UNIT_LOG_SCALE
    - parameterId: batch_size
      discreteValueSpec: {values: [16, 32, 64]}
      scaleType: UNIT_LINEAR_SCALE
  measurementSelectionType: BEST_MEASUREMENT
maxTrialCount: 6
parallelTrialCount: 2
trialJobSpec:
  workerPoolSpecs:
    - machineSpec: {machineType: n1-standard-4}
      replicaCount: 1
      containerSpec:
        imageUri: python:3.11
        command: [python, train.py]
  scheduling: {timeout: 600s}
"""


def test_load_job_file_reads_yaml(tmp_path: Path) -> None:
    path = tmp_path / "job.yaml"
    path.write_text(EXAMPLE_YAML, encoding="utf-8")
    job = load_job_file(path)
    assert validate_job(job) == []
    lr, batch_size = job.study.parameters
    assert lr.double_value_spec is not None
    assert (lr.double_value_spec.min_value, lr.double_value_spec.max_value) == (0.0001, 0.1)
    assert batch_size.discrete_value_spec is not None
    assert batch_size.discrete_value_spec.values == [16.0, 32.0, 64.0]
    assert job.trial_spec.worker_pool_specs[0].replica_count == 1


def test_load_job_file_reads_yml_and_json_alike(tmp_path: Path) -> None:
    yml = tmp_path / "job.yml"
    yml.write_text(EXAMPLE_YAML, encoding="utf-8")
    as_json = tmp_path / "job.json"
    as_json.write_text(json.dumps(yaml.safe_load(EXAMPLE_YAML)), encoding="utf-8")
    assert load_job_file(yml) == load_job_file(str(as_json))


def test_load_job_file_reads_the_sdk_body_as_json(tmp_path: Path) -> None:
    path = tmp_path / "job.json"
    path.write_text(json.dumps(sdk_create_body()), encoding="utf-8")
    assert load_job_file(path) == job_from_dict(sdk_create_body())


def test_load_job_file_drops_output_only_fields(tmp_path: Path) -> None:
    path = tmp_path / "job.yaml"
    path.write_text(yaml.safe_dump(full_job(), allow_unicode=True), encoding="utf-8")
    job = load_job_file(path)
    assert job.state is JobState.JOB_STATE_UNSPECIFIED and job.trials == []
    assert job.labels == {"team": "ml", "équipe": "données"}


@pytest.mark.parametrize(
    ("name", "text", "words"),
    [
        ("bad.yaml", "displayName: [unclosed\n", "is not valid YAML"),
        ("bad.yaml", "a: b: c\n", "is not valid YAML"),
        ("bad.json", '{"displayName": }', "is not valid JSON"),
        ("list.yaml", "- displayName: x\n", "expected a JSON object"),
        ("empty.yaml", "", "expected a JSON object"),
    ],
)
def test_load_job_file_refuses_malformed_files(
    tmp_path: Path, name: str, text: str, words: str
) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InvalidArgument, match=re.escape(words)):
        load_job_file(path)


def test_load_job_file_names_unknown_fields(tmp_path: Path) -> None:
    path = tmp_path / "job.yaml"
    path.write_text(EXAMPLE_YAML + "maxTrials: 3\n", encoding="utf-8")
    with pytest.raises(InvalidArgument) as info:
        load_job_file(path)
    assert [(v.field, v.description) for v in info.value.violations] == [
        ("maxTrials", "unknown field")
    ]


def test_load_job_file_reports_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgument, match="cannot read job file"):
        load_job_file(tmp_path / "absent.yaml")
