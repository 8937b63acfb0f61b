"""The proto3 JSON scalars: enums, int64/int32, doubles, timestamps and durations."""

from __future__ import annotations

import json
import math
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from pydantic import ValidationError

from tuneyard.errors import InvalidArgument
from tuneyard.model import (
    Algorithm,
    ConvexAutomatedStoppingSpec,
    DiskSpec,
    DoubleValueSpec,
    GoalType,
    HyperparameterTuningJob,
    IntegerValueSpec,
    JobState,
    MachineSpec,
    Measurement,
    MeasurementMetric,
    MetricSpec,
    ScaleType,
    StudySpec,
    StudyStoppingConfig,
    WorkerPoolSpec,
    format_duration,
    format_timestamp,
    parse_duration,
    parse_resource,
    parse_timestamp,
)

UTC = timezone.utc


def test_enum_parses_member_name_number_and_number_string() -> None:
    assert GoalType.parse(GoalType.MINIMIZE) is GoalType.MINIMIZE
    assert GoalType.parse("MINIMIZE") is GoalType.MINIMIZE
    assert GoalType.parse(2) is GoalType.MINIMIZE
    assert GoalType.parse("2") is GoalType.MINIMIZE


@pytest.mark.parametrize("value", ["minimize", "MINIMISE", 7, "7", True, 1.0, None, ""])
def test_enum_refuses_what_is_not_a_name_or_number(value: Any) -> None:
    with pytest.raises(ValueError, match="not a valid GoalType; expected one of"):
        GoalType.parse(value)


def test_algorithm_has_no_value_one() -> None:
    with pytest.raises(ValueError, match="GRID_SEARCH, RANDOM_SEARCH"):
        Algorithm.parse(1)


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("goal", "MAXIMIZE", GoalType.MAXIMIZE),
        ("goal", 1, GoalType.MAXIMIZE),
        ("goal", "GOAL_TYPE_UNSPECIFIED", GoalType.GOAL_TYPE_UNSPECIFIED),
        ("goal", 0, GoalType.GOAL_TYPE_UNSPECIFIED),
    ],
)
def test_enum_fields_take_names_and_numbers(field: str, value: Any, expected: GoalType) -> None:
    assert MetricSpec.model_validate({"metricId": "a", field: value}).goal is expected


def test_unknown_enum_is_an_invalid_argument_naming_the_path() -> None:
    with pytest.raises(InvalidArgument) as info:
        parse_resource(StudySpec, {"metrics": [{"metricId": "a", "goal": "BIGGER"}]})
    [violation] = info.value.violations
    assert violation.field == "metrics[0].goal"
    assert "'BIGGER' is not a valid GoalType" in violation.description


def test_enums_are_written_as_names_by_default_and_numbers_on_request() -> None:
    spec = StudySpec(
        metrics=[MetricSpec(metric_id="loss", goal=GoalType.MINIMIZE)],
        algorithm=Algorithm.GRID_SEARCH,
    )
    assert spec.to_json_dict() == {
        "metrics": [{"metricId": "loss", "goal": "MINIMIZE"}],
        "algorithm": "GRID_SEARCH",
    }
    assert spec.to_json_dict(enum_int=True) == {
        "metrics": [{"metricId": "loss", "goal": 2}],
        "algorithm": 2,
    }


def test_enum_zero_is_left_out_in_both_encodings() -> None:
    job = HyperparameterTuningJob(display_name="x", state=JobState.JOB_STATE_UNSPECIFIED)
    assert job.to_json_dict() == {"displayName": "x"}
    assert job.to_json_dict(enum_int=True) == {"displayName": "x"}


def test_python_mode_dump_keeps_enum_members() -> None:
    dumped = MetricSpec(metric_id="a", goal=GoalType.MINIMIZE).model_dump()
    assert dumped["goal"] is GoalType.MINIMIZE


def test_int64_is_written_as_a_string_and_int32_as_a_number() -> None:
    assert IntegerValueSpec(min_value=4, max_value=128).to_json_dict() == {
        "minValue": "4",
        "maxValue": "128",
    }
    assert WorkerPoolSpec(replica_count=3).to_json_dict() == {"replicaCount": "3"}
    assert Measurement(step_count=10).to_json_dict() == {"stepCount": "10"}
    assert ConvexAutomatedStoppingSpec(max_step_count=7).to_json_dict() == {"maxStepCount": "7"}
    assert HyperparameterTuningJob(max_trial_count=12, parallel_trial_count=2).to_json_dict() == {
        "maxTrialCount": 12,
        "parallelTrialCount": 2,
    }
    assert MachineSpec(accelerator_count=4).to_json_dict() == {"acceleratorCount": 4}
    assert DiskSpec(boot_disk_size_gb=100).to_json_dict() == {"bootDiskSizeGb": 100}
    assert StudyStoppingConfig(max_num_trials=5).to_json_dict() == {"maxNumTrials": 5}


@pytest.mark.parametrize("value", ["4", 4, 4.0, " 4 ", "-4"])
def test_int64_reads_numbers_and_decimal_strings(value: Any) -> None:
    assert abs(IntegerValueSpec.model_validate({"minValue": value}).min_value) == 4


@pytest.mark.parametrize("value", [4.5, "4.5", "four", True, "0x10", None, [4]])
def test_int64_refuses_what_is_not_an_integer(value: Any) -> None:
    with pytest.raises(InvalidArgument) as info:
        parse_resource(IntegerValueSpec, {"minValue": value})
    assert [v.field for v in info.value.violations] == ["minValue"]


def test_int64_and_int32_refuse_values_out_of_range() -> None:
    assert IntegerValueSpec.model_validate({"maxValue": str(2**63 - 1)}).max_value == 2**63 - 1
    assert IntegerValueSpec.model_validate({"minValue": str(-(2**63))}).min_value == -(2**63)
    with pytest.raises(InvalidArgument, match="maxValue: 9223372036854775808 is out of range"):
        parse_resource(IntegerValueSpec, {"maxValue": str(2**63)})
    assert MachineSpec.model_validate({"acceleratorCount": 2**31 - 1}).accelerator_count > 0
    with pytest.raises(InvalidArgument, match="acceleratorCount: 2147483648 is out of range"):
        parse_resource(MachineSpec, {"acceleratorCount": 2**31})
    with pytest.raises(InvalidArgument, match=r"maxTrialCount: .* out of range for an int32"):
        parse_resource(HyperparameterTuningJob, {"maxTrialCount": "99999999999"})


def test_zero_values_are_left_out_but_set_messages_stay() -> None:
    # A conditional double spec with min 0.0 is what the SDK sends as {"maxValue": 1.0}.
    assert DoubleValueSpec(min_value=0.0, max_value=1.0).to_json_dict() == {"maxValue": 1.0}
    assert IntegerValueSpec(min_value=0, max_value=0).to_json_dict() == {}
    assert WorkerPoolSpec(machine_spec=MachineSpec()).to_json_dict() == {"machineSpec": {}}
    assert MeasurementMetric(metric_id="loss", value=0.0).to_json_dict() == {"metricId": "loss"}
    job = HyperparameterTuningJob(
        display_name="",
        max_failed_trial_count=0,
        labels={},
        trials=[],
        satisfies_pzs=False,
        study_spec=StudySpec(),
    )
    assert job.to_json_dict() == {"studySpec": {}}


def test_wrapper_fields_keep_false_and_zero() -> None:
    config = StudyStoppingConfig(should_stop_asap=False, min_num_trials=0)
    assert config.to_json_dict() == {"shouldStopAsap": False, "minNumTrials": 0}
    assert StudyStoppingConfig().to_json_dict() == {}


def test_absent_scalars_read_as_zero_values() -> None:
    spec = DoubleValueSpec.model_validate({"maxValue": 1.0})
    assert spec.min_value == 0.0
    job = HyperparameterTuningJob.model_validate({})
    assert job.max_failed_trial_count == 0
    assert job.state is JobState.JOB_STATE_UNSPECIFIED
    assert job.labels == {}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("NaN", math.nan),
        ("Infinity", math.inf),
        ("-Infinity", -math.inf),
        ("0.25", 0.25),
        (0.25, 0.25),
        (3, 3.0),
        ("1e-4", 0.0001),
    ],
)
def test_doubles_read_numbers_and_the_special_strings(text: Any, expected: float) -> None:
    value = MeasurementMetric.model_validate({"metricId": "m", "value": text}).value
    assert value == expected or (math.isnan(expected) and math.isnan(value))


@pytest.mark.parametrize("value", [True, "one", "", None, [1.0]])
def test_doubles_refuse_other_values(value: Any) -> None:
    with pytest.raises(InvalidArgument) as info:
        parse_resource(MeasurementMetric, {"value": value})
    assert [v.field for v in info.value.violations] == ["value"]


def test_nan_and_infinity_are_written_as_strings_in_valid_json() -> None:
    measurement = Measurement(
        metrics=[
            MeasurementMetric(metric_id="a", value=math.nan),
            MeasurementMetric(metric_id="b", value=math.inf),
            MeasurementMetric(metric_id="c", value=-math.inf),
            MeasurementMetric(metric_id="d", value=0.5),
        ]
    )
    written = measurement.to_json_dict()
    assert [m["value"] for m in written["metrics"]] == ["NaN", "Infinity", "-Infinity", 0.5]
    text = json.dumps(written, allow_nan=False)
    assert measurement.model_validate(json.loads(text)).to_json_dict() == written
    assert '"NaN"' in measurement.model_dump_json()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-01-01T00:00:00Z", datetime(2026, 1, 1, tzinfo=UTC)),
        ("2026-01-01T00:00:00.123Z", datetime(2026, 1, 1, 0, 0, 0, 123000, tzinfo=UTC)),
        ("2026-01-01T00:00:00.123456Z", datetime(2026, 1, 1, 0, 0, 0, 123456, tzinfo=UTC)),
        # Nanoseconds do not fit a datetime; they are truncated to microseconds.
        ("2026-01-01T00:00:00.123456789Z", datetime(2026, 1, 1, 0, 0, 0, 123456, tzinfo=UTC)),
        ("2026-01-01T05:30:00+05:30", datetime(2026, 1, 1, tzinfo=UTC)),
        ("2025-12-31T16:00:00.5-08:00", datetime(2026, 1, 1, 0, 0, 0, 500000, tzinfo=UTC)),
        ("2026-01-01t00:00:00z", datetime(2026, 1, 1, tzinfo=UTC)),
    ],
)
def test_timestamps_with_any_precision_and_offset_become_utc(text: str, expected: datetime) -> None:
    parsed = parse_timestamp(text)
    assert parsed == expected
    assert parsed.utcoffset() == timedelta(0)
    job = HyperparameterTuningJob.model_validate({"createTime": text})
    assert job.create_time == expected


@pytest.mark.parametrize(
    ("value", "written"),
    [
        (datetime(2026, 1, 1, tzinfo=UTC), "2026-01-01T00:00:00Z"),
        (datetime(2026, 1, 1, 0, 0, 0, 123456, tzinfo=UTC), "2026-01-01T00:00:00.123456Z"),
        (datetime(2026, 1, 1, 0, 0, 0, 123000, tzinfo=UTC), "2026-01-01T00:00:00.123000Z"),
        (datetime(2026, 1, 1, 9, tzinfo=timezone(timedelta(hours=9))), "2026-01-01T00:00:00Z"),
    ],
)
def test_timestamps_are_written_in_utc_with_z(value: datetime, written: str) -> None:
    assert format_timestamp(value) == written
    assert HyperparameterTuningJob(create_time=value).to_json_dict() == {"createTime": written}


@pytest.mark.parametrize(
    "value",
    [
        1767225600,
        1767225600.5,
        "2026-01-01",
        "2026-01-01 00:00:00Z",
        "2026-01-01T00:00:00",
        "2026-01-01T00:00:60Z",
        "yesterday",
    ],
)
def test_timestamps_refuse_numbers_and_non_rfc3339_text(value: Any) -> None:
    with pytest.raises(InvalidArgument) as info:
        parse_resource(HyperparameterTuningJob, {"createTime": value})
    assert [v.field for v in info.value.violations] == ["createTime"]


def test_timestamp_number_message_says_a_string_is_expected() -> None:
    with pytest.raises(InvalidArgument, match="createTime: expected an RFC 3339 timestamp string"):
        parse_resource(HyperparameterTuningJob, {"createTime": 0})


def test_naive_datetimes_are_taken_as_utc() -> None:
    assert parse_timestamp(datetime(2026, 1, 1)) == datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "value", "written"),
    [
        ("3600s", timedelta(hours=1), "3600s"),
        ("0.001s", timedelta(milliseconds=1), "0.001s"),
        # proto3 writes 0, 3, 6 or 9 fractional digits, so 12.5 s comes back as "12.500s".
        ("12.5s", timedelta(seconds=12.5), "12.500s"),
        ("12.500s", timedelta(seconds=12.5), "12.500s"),
        ("0.000001s", timedelta(microseconds=1), "0.000001s"),
        ("0.123456s", timedelta(microseconds=123456), "0.123456s"),
        ("0s", timedelta(0), "0s"),
        ("-1.5s", timedelta(seconds=-1.5), "-1.500s"),
    ],
)
def test_durations_round_trip(text: str, value: timedelta, written: str) -> None:
    assert parse_duration(text) == value
    assert format_duration(value) == written
    assert parse_duration(written) == value
    config = StudyStoppingConfig.model_validate({"maxDurationNoProgress": text})
    assert config.max_duration_no_progress == value
    assert config.to_json_dict() == {"maxDurationNoProgress": written}


@pytest.mark.parametrize("value", [3600, 3600.0, "3600", "1h", "1e3s", "s", "1.0000000001s"])
def test_durations_refuse_what_is_not_seconds_with_s(value: Any) -> None:
    with pytest.raises(InvalidArgument, match="expected a duration such as '3600s'"):
        parse_resource(StudyStoppingConfig, {"maxDurationNoProgress": value})


def test_models_are_immutable() -> None:
    spec = MetricSpec(metric_id="a")
    with pytest.raises(ValidationError):
        spec.metric_id = "b"  # type: ignore[misc]


def test_scale_type_numbers_match_the_proto() -> None:
    assert [(s.name, int(s)) for s in ScaleType] == [
        ("SCALE_TYPE_UNSPECIFIED", 0),
        ("UNIT_LINEAR_SCALE", 1),
        ("UNIT_LOG_SCALE", 2),
        ("UNIT_REVERSE_LOG_SCALE", 3),
    ]
