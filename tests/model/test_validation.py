"""``validate_job``: the job-level rules, one test per rule naming the field path and the rule.

Parameter rules are in ``test_validation_parameters.py``, worker pool rules in
``test_validation_trial_job_spec.py``.
"""

from __future__ import annotations

import pytest

from tests.model.conftest import (
    assert_violation,
    full_job,
    integer,
    valid_job,
)
from tuneyard.errors import InvalidArgument
from tuneyard.model import HyperparameterTuningJob, job_from_dict, validate_job

POOL0 = "trialJobSpec.workerPoolSpecs[0]"


# The starting point ---------------------------------------------------------------------------


def test_a_valid_job_passes_without_notices() -> None:
    assert validate_job(job_from_dict(valid_job())) == []


def test_the_full_job_passes_with_notices_for_what_is_kept_but_not_applied() -> None:
    notices = validate_job(job_from_dict(full_job()))
    assert len(notices) == 2
    assert "studySpec.decayCurveStoppingSpec" in notices[0]
    assert "studySpec.studyStoppingConfig" in notices[1]


# displayName ----------------------------------------------------------------------------------


def test_display_name_is_required() -> None:
    data = valid_job()
    del data["displayName"]
    assert_violation(data, "displayName", "displayName is required")


def test_display_name_is_at_most_128_characters() -> None:
    assert_violation(valid_job(displayName="x" * 129), "displayName", "at most 128", "got 129")


def test_display_name_of_128_characters_of_any_utf8_is_fine() -> None:
    assert validate_job(job_from_dict(valid_job(displayName="é" * 127 + "日"))) == []


# labels ---------------------------------------------------------------------------------------


def test_label_keys_must_not_have_uppercase_letters() -> None:
    found = assert_violation(
        valid_job(labels={"Team": "ml"}),
        "labels['Team']",
        "must start with a lowercase letter",
        only=False,
    )
    assert any("may contain only lowercase letters" in v.description for v in found)
    assert_violation(
        valid_job(labels={"team": "ml", "myTeam": "ml"}),
        "labels['myTeam']",
        "label key 'myTeam' may contain only lowercase letters, digits, '_' and '-'",
        "'T'",
    )


@pytest.mark.parametrize("key", ["1team", "_team", "-team"])
def test_label_keys_must_start_with_a_letter(key: str) -> None:
    assert_violation(
        valid_job(labels={key: "ml"}), f"labels[{key!r}]", "must start with a lowercase letter"
    )


def test_label_keys_must_not_be_empty() -> None:
    assert_violation(valid_job(labels={"": "ml"}), "labels['']", "must not be empty")


def test_label_values_may_contain_only_lowercase_letters_digits_and_dashes() -> None:
    assert_violation(
        valid_job(labels={"team": "ML team"}),
        "labels['team']",
        "label value 'ML team' may contain only",
        "found ' LM'",
    )


def test_label_keys_and_values_may_be_64_characters_but_not_more() -> None:
    assert validate_job(job_from_dict(valid_job(labels={"k" * 64: "v" * 64}))) == []
    assert_violation(
        valid_job(labels={"k" * 65: "ml"}), f"labels[{'k' * 65!r}]", "key is longer than 64"
    )
    assert_violation(valid_job(labels={"team": "v" * 65}), "labels['team']", "longer than 64")


def test_at_most_64_labels() -> None:
    labels = {f"k{i}": "v" for i in range(65)}
    assert validate_job(job_from_dict(valid_job(labels=dict(list(labels.items())[:64])))) == []
    assert_violation(valid_job(labels=labels), "labels", "at most 64 labels", "got 65")


def test_labels_allow_international_characters_in_keys_and_values() -> None:
    labels = {"équipe": "données", "データ": "チーム", "team": "", "cost-center_2": "a-1_b"}
    assert validate_job(job_from_dict(valid_job(labels=labels))) == []


def test_labels_refuse_uppercase_international_letters() -> None:
    assert_violation(valid_job(labels={"équipe": "Données"}), "labels['équipe']", "found 'D'")
    assert_violation(
        valid_job(labels={"Équipe": "x"}),
        "labels['Équipe']",
        "must start with a lowercase letter",
        only=False,
    )


# metrics --------------------------------------------------------------------------------------


def test_at_least_one_metric() -> None:
    data = valid_job()
    data["studySpec"]["metrics"] = []
    assert_violation(data, "studySpec.metrics", "at least one metric is required")


def test_metric_id_is_required() -> None:
    data = valid_job()
    data["studySpec"]["metrics"] = [{"goal": "MAXIMIZE"}]
    assert_violation(data, "studySpec.metrics[0].metricId", "metricId is required")


def test_metric_ids_must_be_unique() -> None:
    data = valid_job()
    data["studySpec"]["metrics"] = [
        {"metricId": "accuracy", "goal": "MAXIMIZE"},
        {"metricId": "accuracy", "goal": "MINIMIZE"},
    ]
    assert_violation(data, "studySpec.metrics[1].metricId", "duplicate metricId 'accuracy'")


@pytest.mark.parametrize("metric_id", ["val accuracy", "accuracy\t", "\nloss"])
def test_metric_ids_must_not_contain_whitespace(metric_id: str) -> None:
    data = valid_job()
    data["studySpec"]["metrics"][0]["metricId"] = metric_id
    assert_violation(data, "studySpec.metrics[0].metricId", "must not contain whitespace")


def test_study_spec_is_required() -> None:
    data = valid_job()
    del data["studySpec"]
    assert_violation(data, "studySpec", "studySpec is required")


# counts ---------------------------------------------------------------------------------------


def test_parallel_trial_count_must_not_exceed_max_trial_count() -> None:
    assert_violation(
        valid_job(maxTrialCount=2, parallelTrialCount=3),
        "parallelTrialCount",
        "3 is greater than maxTrialCount 2",
    )


@pytest.mark.parametrize("count", [0, -1])
def test_max_trial_count_must_be_at_least_1(count: int) -> None:
    data = valid_job(maxTrialCount=count)
    assert_violation(data, "maxTrialCount", f"must be at least 1, got {count}")


def test_max_trial_count_is_required() -> None:
    data = valid_job()
    del data["maxTrialCount"]
    assert_violation(data, "maxTrialCount", "must be at least 1, got 0")


@pytest.mark.parametrize("count", [0, -2])
def test_parallel_trial_count_must_be_at_least_1(count: int) -> None:
    assert_violation(
        valid_job(parallelTrialCount=count),
        "parallelTrialCount",
        f"must be at least 1, got {count}",
    )


def test_max_failed_trial_count_must_not_be_negative() -> None:
    assert_violation(
        valid_job(maxFailedTrialCount=-1), "maxFailedTrialCount", "must not be negative, got -1"
    )
    assert validate_job(job_from_dict(valid_job(maxFailedTrialCount=0))) == []


# stopping -------------------------------------------------------------------------------------


def test_only_one_automated_stopping_spec() -> None:
    data = valid_job()
    data["studySpec"]["medianAutomatedStoppingSpec"] = {}
    data["studySpec"]["convexAutomatedStoppingSpec"] = {"maxStepCount": "10"}
    assert_violation(
        data,
        "studySpec",
        "only one automated stopping spec may be set, got medianAutomatedStoppingSpec and "
        "convexAutomatedStoppingSpec",
    )


@pytest.mark.parametrize(
    "field",
    ["decayCurveStoppingSpec", "medianAutomatedStoppingSpec", "convexAutomatedStoppingSpec"],
)
def test_a_stopping_spec_is_a_notice_not_an_error(field: str) -> None:
    data = valid_job()
    data["studySpec"][field] = {}
    [notice] = validate_job(job_from_dict(data))
    assert f"studySpec.{field}" in notice
    assert "not applied" in notice


def test_a_study_stopping_config_is_a_notice() -> None:
    data = valid_job()
    data["studySpec"]["studyStoppingConfig"] = {"maxNumTrials": 3}
    [notice] = validate_job(job_from_dict(data))
    assert "studySpec.studyStoppingConfig" in notice


# all together ---------------------------------------------------------------------------------


def test_all_violations_are_reported_together() -> None:
    data = valid_job(displayName="", maxTrialCount=1, parallelTrialCount=2, labels={"A": "b"})
    data["studySpec"]["metrics"].append({"metricId": "accuracy", "goal": "MINIMIZE"})
    data["studySpec"]["parameters"].append(integer("units", 9, 1))
    data["trialJobSpec"]["workerPoolSpecs"][0]["replicaCount"] = "2"
    data["encryptionSpec"] = {}
    with pytest.raises(InvalidArgument) as info:
        validate_job(job_from_dict(data))
    fields = [v.field for v in info.value.violations]
    assert fields == [
        "displayName",
        "labels['A']",
        "labels['A']",
        "studySpec.metrics[1].metricId",
        "studySpec.parameters[1].integerValueSpec",
        "parallelTrialCount",
        f"{POOL0}.replicaCount",
        "encryptionSpec.kmsKeyName",
    ]
    message = str(info.value)
    assert message.startswith("displayName: displayName is required; ")
    assert "studySpec.parameters[1].integerValueSpec: minValue 9 is greater than maxValue 1" in (
        message
    )


def test_an_empty_job_names_every_required_field() -> None:
    with pytest.raises(InvalidArgument) as info:
        validate_job(HyperparameterTuningJob())
    assert [v.field for v in info.value.violations] == [
        "displayName",
        "studySpec",
        "maxTrialCount",
        "parallelTrialCount",
        "trialJobSpec",
    ]
