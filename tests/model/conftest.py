"""Jobs for model tests: the SDK's create body, a small valid job, and a job with every field.

Each builder returns a fresh dict, so a test may change it freely.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tuneyard.errors import FieldViolation, InvalidArgument
from tuneyard.model import job_from_dict, validate_job

# The create body google-cloud-aiplatform 2.7.0 sent to a logging fake (vertex-contract §5.3):
# enums as numbers, int64 as strings, and zero values (maxFailedTrialCount, alpha's minValue)
# left out.
SDK_CREATE_BODY = """
{"displayName":"sdk-hpt",
 "studySpec":{"metrics":[{"metricId":"accuracy","goal":1},{"metricId":"loss","goal":2}],
  "parameters":[
   {"parameterId":"lr","doubleValueSpec":{"minValue":0.0001,"maxValue":0.1},"scaleType":2},
   {"parameterId":"units","integerValueSpec":{"minValue":"4","maxValue":"128"},"scaleType":1},
   {"parameterId":"activation","categoricalValueSpec":{"values":["relu","selu"]},
    "conditionalParameterSpecs":[{"parameterSpec":{"parameterId":"alpha",
                                                   "doubleValueSpec":{"maxValue":1.0},"scaleType":1},
                                  "parentCategoricalValues":{"values":["selu"]}}]},
   {"parameterId":"batch_size","discreteValueSpec":{"values":[16.0,32.0,64.0]},"scaleType":1}],
  "algorithm":3,"measurementSelectionType":2},
 "maxTrialCount":4,"parallelTrialCount":2,
 "trialJobSpec":{"workerPoolSpecs":[{"machineSpec":{"machineType":"n1-standard-4","acceleratorType":5,
                                                    "acceleratorCount":1},
   "replicaCount":"1",
   "containerSpec":{"imageUri":"us-docker.pkg.dev/x/y/trainer:latest",
                    "command":["python","-m","trainer.task"],
                    "args":["--epochs=3"],"env":[{"name":"FOO","value":"bar"}]}}],
  "scheduling":{"timeout":"3600s","restartJobOnWorkerRestart":true},
  "serviceAccount":"sa@x.iam.gserviceaccount.com",
  "baseOutputDirectory":{"outputUriPrefix":"gs://my-bucket/hpt-out"}},
 "labels":{"team":"ml"}}
"""


def sdk_create_body() -> dict[str, Any]:
    """The SDK's create request body, decoded."""
    body: dict[str, Any] = json.loads(SDK_CREATE_BODY)
    return body


def pool(**fields: Any) -> dict[str, Any]:
    """A valid primary worker pool running a local command."""
    spec: dict[str, Any] = {
        "machineSpec": {"machineType": "n1-standard-4"},
        "replicaCount": "1",
        "containerSpec": {"imageUri": "python:3.11", "command": ["python", "train.py"]},
    }
    spec.update(fields)
    return spec


def valid_job(**fields: Any) -> dict[str, Any]:
    """A small job that passes every rule; top-level ``fields`` replace or add keys."""
    job: dict[str, Any] = {
        "displayName": "mnist",
        "studySpec": {
            "metrics": [{"metricId": "accuracy", "goal": "MAXIMIZE"}],
            "parameters": [
                {
                    "parameterId": "lr",
                    "doubleValueSpec": {"minValue": 0.0001, "maxValue": 0.1},
                    "scaleType": "UNIT_LOG_SCALE",
                }
            ],
        },
        "maxTrialCount": 4,
        "parallelTrialCount": 2,
        "trialJobSpec": {"workerPoolSpecs": [pool()]},
    }
    job.update(fields)
    return job


def job_with_parameters(
    *parameters: dict[str, Any], algorithm: str | None = None
) -> dict[str, Any]:
    """A valid job whose study has exactly ``parameters``."""
    job = valid_job()
    job["studySpec"]["parameters"] = list(parameters)
    if algorithm is not None:
        job["studySpec"]["algorithm"] = algorithm
    return job


def job_with_pools(*pools: dict[str, Any]) -> dict[str, Any]:
    """A valid job whose trial spec has exactly ``pools``."""
    job = valid_job()
    job["trialJobSpec"]["workerPoolSpecs"] = list(pools)
    return job


def double(pid: str, low: float, high: float, scale: str = "", **more: Any) -> dict[str, Any]:
    """A DOUBLE parameter spec in Vertex JSON."""
    spec: dict[str, Any] = {
        "parameterId": pid,
        "doubleValueSpec": {"minValue": low, "maxValue": high},
    }
    if scale:
        spec["scaleType"] = scale
    spec.update(more)
    return spec


def integer(pid: str, low: int, high: int, scale: str = "", **more: Any) -> dict[str, Any]:
    """An INTEGER parameter spec, bounds written as int64 strings."""
    spec: dict[str, Any] = {
        "parameterId": pid,
        "integerValueSpec": {"minValue": str(low), "maxValue": str(high)},
    }
    if scale:
        spec["scaleType"] = scale
    spec.update(more)
    return spec


def categorical(pid: str, *values: str, **more: Any) -> dict[str, Any]:
    """A CATEGORICAL parameter spec."""
    return {"parameterId": pid, "categoricalValueSpec": {"values": list(values)}, **more}


def discrete(pid: str, *values: float, scale: str = "", **more: Any) -> dict[str, Any]:
    """A DISCRETE parameter spec."""
    spec: dict[str, Any] = {"parameterId": pid, "discreteValueSpec": {"values": list(values)}}
    if scale:
        spec["scaleType"] = scale
    spec.update(more)
    return spec


def child(spec: dict[str, Any], **condition: Any) -> dict[str, Any]:
    """A conditional child; ``condition`` is e.g. ``parentIntValues={"values": ["1"]}``."""
    return {"parameterSpec": spec, **condition}


STOPPING_SPECS: dict[str, dict[str, Any]] = {
    "decayCurveStoppingSpec": {"useElapsedDuration": True},
    "medianAutomatedStoppingSpec": {"useElapsedDuration": True},
    "convexAutomatedStoppingSpec": {
        "maxStepCount": "100",
        "minStepCount": "10",
        "minMeasurementCount": "5",
        "learningRateParameterName": "lr",
        "useElapsedDuration": True,
        "updateAllStoppedTrials": True,
    },
}


LOCATION = "projects/my-proj/locations/us-central1"


def full_job(stopping: str = "decayCurveStoppingSpec") -> dict[str, Any]:
    """A job with every field set, written exactly as ``to_json_dict`` writes it.

    Canonical means: enums as names, int64 as strings, no zero values, durations with 0/3/6/9
    fractional digits, timestamps in UTC with ``Z``.
    """
    return {
        "name": f"{LOCATION}/hyperparameterTuningJobs/4431052537453756416",
        "displayName": "every-field",
        "studySpec": {
            "metrics": [
                {
                    "metricId": "accuracy",
                    "goal": "MAXIMIZE",
                    "safetyConfig": {"safetyThreshold": 0.5, "desiredMinSafeTrialsFraction": 0.9},
                },
                {"metricId": "loss", "goal": "MINIMIZE"},
            ],
            "parameters": [
                {
                    "parameterId": "lr",
                    "doubleValueSpec": {"minValue": 0.0001, "maxValue": 0.1},
                    "scaleType": "UNIT_LOG_SCALE",
                },
                {
                    "parameterId": "units",
                    "integerValueSpec": {"minValue": "4", "maxValue": "128"},
                    "scaleType": "UNIT_LINEAR_SCALE",
                    "conditionalParameterSpecs": [
                        {
                            "parameterSpec": {
                                "parameterId": "dropout",
                                "doubleValueSpec": {"maxValue": 0.5},
                                "scaleType": "UNIT_LINEAR_SCALE",
                            },
                            "parentIntValues": {"values": ["64", "128"]},
                        }
                    ],
                },
                {
                    "parameterId": "activation",
                    "categoricalValueSpec": {"values": ["relu", "selu"]},
                    "conditionalParameterSpecs": [
                        {
                            "parameterSpec": {
                                "parameterId": "alpha",
                                "doubleValueSpec": {"minValue": 0.5, "maxValue": 2.0},
                                "scaleType": "UNIT_REVERSE_LOG_SCALE",
                            },
                            "parentCategoricalValues": {"values": ["selu"]},
                        }
                    ],
                },
                {
                    "parameterId": "batch_size",
                    "discreteValueSpec": {"values": [16.0, 32.0, 64.0]},
                    "scaleType": "UNIT_LOG_SCALE",
                    "conditionalParameterSpecs": [
                        {
                            "parameterSpec": {
                                "parameterId": "accumulate",
                                "categoricalValueSpec": {"values": ["yes", "no"]},
                            },
                            "parentDiscreteValues": {"values": [64.0]},
                        }
                    ],
                },
            ],
            "algorithm": "RANDOM_SEARCH",
            stopping: STOPPING_SPECS[stopping],
            "measurementSelectionType": "BEST_MEASUREMENT",
            "studyStoppingConfig": {
                # Wrapper types keep presence: false and 0 are written when set.
                "shouldStopAsap": False,
                "minimumRuntimeConstraint": {"maxDuration": "60s"},
                "maximumRuntimeConstraint": {"endTime": "2026-11-30T00:00:00Z"},
                "minNumTrials": 0,
                "maxNumTrials": 10,
                "maxNumTrialsNoProgress": 3,
                "maxDurationNoProgress": "600.500s",
            },
        },
        "maxTrialCount": 8,
        "parallelTrialCount": 2,
        "maxFailedTrialCount": 3,
        "trialJobSpec": {
            "persistentResourceId": "shared-pool",
            "workerPoolSpecs": [
                {
                    "containerSpec": {
                        "imageUri": "python:3.11",
                        "command": ["python", "train.py"],
                        "args": ["--epochs=3"],
                        "env": [{"name": "FOO", "value": "bar"}],
                    },
                    "machineSpec": {
                        "machineType": "n1-standard-8",
                        "acceleratorType": "NVIDIA_TESLA_T4",
                        "acceleratorCount": 2,
                        "gpuPartitionSize": "1g.10gb",
                        "tpuTopology": "2x2",
                        "reservationAffinity": {
                            "reservationAffinityType": "SPECIFIC_RESERVATION",
                            "key": "compute.googleapis.com/reservation-name",
                            "values": ["r1"],
                        },
                    },
                    "replicaCount": "1",
                    "nfsMounts": [{"server": "10.0.0.2", "path": "/export", "mountPoint": "data"}],
                    "lustreMounts": [
                        {
                            "instanceIp": "10.0.0.3",
                            "volumeHandle": "vol-1",
                            "filesystem": "fs1",
                            "mountPoint": "lustre",
                        }
                    ],
                    "diskSpec": {"bootDiskType": "pd-ssd", "bootDiskSizeGb": 100},
                },
                {},
                {
                    "pythonPackageSpec": {
                        "executorImageUri": "us-docker.pkg.dev/vertex-ai/training/sklearn:latest",
                        "packageUris": ["gs://my-bucket/trainer-0.1.tar.gz"],
                        "pythonModule": "trainer.task",
                        "args": ["--role=ps"],
                        "env": [{"name": "ROLE", "value": "ps"}],
                    },
                    "machineSpec": {"machineType": "n1-standard-4"},
                    "replicaCount": "2",
                },
            ],
            "scheduling": {
                "timeout": "3600s",
                "restartJobOnWorkerRestart": True,
                "strategy": "SPOT",
                "disableRetries": True,
                "maxWaitDuration": "0.001s",
            },
            "serviceAccount": "sa@my-proj.iam.gserviceaccount.com",
            "network": "projects/123/global/networks/default",
            "reservedIpRanges": ["range-a"],
            "pscInterfaceConfig": {
                "networkAttachment": "attachment-1",
                "dnsPeeringConfigs": [
                    {"domain": "example.com.", "targetProject": "p2", "targetNetwork": "n2"}
                ],
            },
            "baseOutputDirectory": {"outputUriPrefix": "gs://my-bucket/hpt-out"},
            "protectedArtifactLocationId": "us-central1",
            "tensorboard": "projects/my-proj/locations/us-central1/tensorboards/7",
            "enableWebAccess": True,
            "enableDashboardAccess": True,
            "experiment": "exp-1",
            "experimentRun": "exp-1-run-1",
            "models": ["projects/my-proj/locations/us-central1/models/9"],
        },
        "trials": [
            {
                "name": "projects/my-proj/locations/us-central1/studies/1/trials/1",
                "id": "1",
                "state": "SUCCEEDED",
                "parameters": [
                    {"parameterId": "lr", "value": 0.0031622776601683794},
                    {"parameterId": "units", "value": 64},
                    {"parameterId": "activation", "value": "selu"},
                    {"parameterId": "alpha", "value": 1.5},
                    {"parameterId": "batch_size", "value": 32.0},
                ],
                "finalMeasurement": {
                    "elapsedDuration": "61s",
                    "stepCount": "10",
                    "metrics": [
                        {"metricId": "accuracy", "value": 0.91},
                        {"metricId": "loss", "value": 0.25},
                    ],
                },
                "measurements": [
                    {
                        "elapsedDuration": "30.200s",
                        "stepCount": "5",
                        "metrics": [{"metricId": "accuracy", "value": 0.85}],
                    },
                    {
                        "elapsedDuration": "61s",
                        "stepCount": "10",
                        "metrics": [
                            {"metricId": "accuracy", "value": 0.91},
                            {"metricId": "loss", "value": 0.25},
                        ],
                    },
                ],
                "startTime": "2026-11-29T03:00:05Z",
                "endTime": "2026-11-29T03:01:07.250000Z",
                "clientId": "client-1",
                "customJob": f"{LOCATION}/customJobs/8571012345678901234",
                "webAccessUris": {"workerpool0-0": "https://example.invalid/0"},
            },
            {
                "id": "2",
                "state": "INFEASIBLE",
                "parameters": [
                    {"parameterId": "lr", "value": 0.0001},
                    {"parameterId": "units", "value": 4},
                    {"parameterId": "activation", "value": "relu"},
                    {"parameterId": "batch_size", "value": 16.0},
                ],
                "measurements": [
                    {
                        "elapsedDuration": "0.000001s",
                        "stepCount": "1",
                        "metrics": [
                            {"metricId": "accuracy", "value": "NaN"},
                            {"metricId": "loss", "value": "Infinity"},
                        ],
                    }
                ],
                "startTime": "2026-11-29T03:01:08Z",
                "endTime": "2026-11-29T03:01:09Z",
                "infeasibleReason": "the trainer exited with code 1",
            },
        ],
        "state": "JOB_STATE_SUCCEEDED",
        "createTime": "2026-11-29T03:00:00.123456Z",
        "startTime": "2026-11-29T03:00:04Z",
        "endTime": "2026-11-29T03:05:00Z",
        "updateTime": "2026-11-29T03:05:00Z",
        "error": {
            "code": 1,
            "message": "CANCELED",
            "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "X"}],
        },
        "labels": {"team": "ml", "équipe": "données"},
        "encryptionSpec": {"kmsKeyName": "projects/p/locations/l/keyRings/r/cryptoKeys/k"},
        "satisfiesPzs": True,
        "satisfiesPzi": True,
    }


def violations_of(data: dict[str, Any]) -> list[FieldViolation]:
    """Parse and validate ``data``; return the violations the single InvalidArgument carries."""
    job = job_from_dict(data)
    with pytest.raises(InvalidArgument) as info:
        validate_job(job)
    return info.value.violations


def assert_violation(
    data: dict[str, Any], path: str, *words: str, only: bool = True
) -> list[FieldViolation]:
    """Assert validation names ``path`` with a description containing every one of ``words``.

    With ``only``, it must also be the sole violation, so the test proves the rule and nothing
    else fired.
    """
    found = violations_of(data)
    at_path = [v for v in found if v.field == path]
    assert at_path, f"no violation at {path!r}; got {found}"
    assert any(all(word in v.description for word in words) for v in at_path), (
        f"no violation at {path!r} mentions {words}; got {at_path}"
    )
    if only:
        assert len(found) == 1, f"expected only {path!r}; got {found}"
    return found
