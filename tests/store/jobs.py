"""Jobs for store tests: a small valid one, and a rich one using most of the spec."""

from __future__ import annotations

from typing import Any

from tuneyard.model import HyperparameterTuningJob, job_from_dict


def small_job(**fields: Any) -> HyperparameterTuningJob:
    """A valid job with one parameter; top-level ``fields`` (camelCase) replace or add keys."""
    data: dict[str, Any] = {
        "displayName": "small",
        "studySpec": {
            "metrics": [{"metricId": "accuracy", "goal": "MAXIMIZE"}],
            "parameters": [
                {"parameterId": "lr", "doubleValueSpec": {"minValue": 0.001, "maxValue": 0.1}}
            ],
        },
        "maxTrialCount": 4,
        "parallelTrialCount": 2,
        "trialJobSpec": {
            "workerPoolSpecs": [
                {
                    "machineSpec": {"machineType": "n1-standard-4"},
                    "replicaCount": "1",
                    "containerSpec": {"imageUri": "python:3.11", "command": ["python", "t.py"]},
                }
            ]
        },
    }
    data.update(fields)
    return job_from_dict(data)


def rich_job() -> HyperparameterTuningJob:
    """A job using most of the spec: every parameter kind, conditions, stopping, scheduling,
    durations, timestamps, labels with non-ASCII text and an encryption spec."""
    return small_job(
        displayName="rich — ünïcode",
        studySpec={
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
                    "doubleValueSpec": {"minValue": 1e-5, "maxValue": 0.1, "defaultValue": 0.01},
                    "scaleType": "UNIT_LOG_SCALE",
                },
                {
                    "parameterId": "units",
                    "integerValueSpec": {"minValue": "4", "maxValue": "9007199254740993"},
                    "conditionalParameterSpecs": [
                        {
                            "parameterSpec": {
                                "parameterId": "dropout",
                                "doubleValueSpec": {"maxValue": 0.5},
                            },
                            "parentIntValues": {"values": ["64", "128"]},
                        }
                    ],
                },
                {"parameterId": "act", "categoricalValueSpec": {"values": ["relu", "selu"]}},
                {
                    "parameterId": "batch",
                    "discreteValueSpec": {"values": [16.0, 32.0, 64.5]},
                    "scaleType": "UNIT_LINEAR_SCALE",
                },
            ],
            "algorithm": "RANDOM_SEARCH",
            "convexAutomatedStoppingSpec": {"maxStepCount": "100", "useElapsedDuration": True},
            "measurementSelectionType": "BEST_MEASUREMENT",
            "studyStoppingConfig": {
                "shouldStopAsap": False,
                "maximumRuntimeConstraint": {"endTime": "2026-11-30T00:00:00.000001Z"},
                "maxDurationNoProgress": "600.500s",
            },
        },
        maxTrialCount=8,
        parallelTrialCount=3,
        maxFailedTrialCount=2,
        trialJobSpec={
            "workerPoolSpecs": [
                {
                    "machineSpec": {
                        "machineType": "n1-standard-8",
                        "acceleratorType": "NVIDIA_TESLA_T4",
                        "acceleratorCount": 2,
                    },
                    "replicaCount": "1",
                    "containerSpec": {
                        "imageUri": "python:3.11",
                        "args": ["--epochs=3"],
                        "env": [{"name": "FOO", "value": "bär"}],
                    },
                    "diskSpec": {"bootDiskType": "pd-ssd", "bootDiskSizeGb": 100},
                },
                {},
                {
                    "machineSpec": {"machineType": "n1-standard-4"},
                    "replicaCount": "2",
                    "pythonPackageSpec": {
                        "executorImageUri": "sklearn:latest",
                        "packageUris": ["gs://bucket/trainer-0.1.tar.gz"],
                        "pythonModule": "trainer.task",
                    },
                },
            ],
            "scheduling": {"timeout": "3600.000001s", "strategy": "SPOT"},
            "serviceAccount": "sa@p.iam.gserviceaccount.com",
            "baseOutputDirectory": {"outputUriPrefix": "gs://bucket/out"},
            "enableWebAccess": True,
        },
        labels={"team": "ml", "équipe": "données"},
        encryptionSpec={"kmsKeyName": "projects/p/locations/l/keyRings/r/cryptoKeys/k"},
    )
