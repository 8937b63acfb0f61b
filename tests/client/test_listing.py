"""Listing through the hook (filters, pages, read masks), and the SDK's own spec classes."""

from __future__ import annotations

import pytest
from google.cloud import aiplatform_v1
from google.cloud.aiplatform import hyperparameter_tuning as sdk_hpt

from tests.client.conftest import PROJECT, REGION, unique, worker_pools
from tuneyard.client import HyperparameterTuningJobHook
from tuneyard.errors import InvalidArgument
from tuneyard.hyperparameter_tuning import (
    CategoricalParameterSpec,
    DiscreteParameterSpec,
    DoubleParameterSpec,
    IntegerParameterSpec,
)


def _create(hook: HyperparameterTuningJobHook, display_name: str, batch: str) -> str:
    job = hook.create_hyperparameter_tuning_job(
        project_id=PROJECT,
        region=REGION,
        display_name=display_name,
        metric_spec={"score": "maximize"},
        parameter_spec={"x": DoubleParameterSpec(0.0, 1.0, "linear")},
        max_trial_count=1,
        parallel_trial_count=1,
        worker_pool_specs=worker_pools(),
        hyperparameter_tuning_job_labels={"batch": batch},
        sync=False,
        wait_job_completed=False,
    )
    return job.resource_name


def test_list_walks_every_page_of_a_filter_and_applies_the_read_mask(
    hook: HyperparameterTuningJobHook,
) -> None:
    batch = unique("b")
    names = [_create(hook, f"{batch}-{i}", batch) for i in range(5)]
    _create(hook, f"{batch}-other", "elsewhere")

    pager = hook.list_hyperparameter_tuning_jobs(
        project_id=PROJECT, region=REGION, filter=f"labels.batch={batch}", page_size=2
    )
    assert len(pager.hyperparameter_tuning_jobs) == 2 and pager.next_page_token
    pages = list(pager.pages)
    assert [len(p.hyperparameter_tuning_jobs) for p in pages] == [2, 2, 1]
    assert pager.next_page_token == ""
    listed = [job.name for page in pages for job in page.hyperparameter_tuning_jobs]
    assert listed == names
    assert all(not job.trials for page in pages for job in page.hyperparameter_tuning_jobs)

    # Iterating a fresh pager fetches the pages itself; a page token starts later.
    pager = hook.list_hyperparameter_tuning_jobs(
        project_id=PROJECT,
        region=REGION,
        filter=f'labels.batch="{batch}" AND display_name:"{batch}-*"',
        page_size=2,
    )
    assert [job.name for job in pager] == names
    second = hook.list_hyperparameter_tuning_jobs(
        project_id=PROJECT,
        region=REGION,
        filter=f"labels.batch={batch}",
        page_size=2,
        page_token=pages[0].next_page_token,
    )
    assert [job.name for job in second] == names[2:]

    masked = list(
        hook.list_hyperparameter_tuning_jobs(
            project_id=PROJECT,
            region=REGION,
            filter=f"labels.batch={batch}",
            read_mask="name,display_name",
        )
    )
    assert [job.display_name for job in masked] == [f"{batch}-{i}" for i in range(5)]
    assert all(job.study_spec is None and not job.labels for job in masked)
    assert masked[0].to_dict()["state"] == 0  # not read

    other_project = list(
        hook.list_hyperparameter_tuning_jobs(
            project_id="someone-else", region=REGION, filter=f"labels.batch={batch}"
        )
    )
    assert other_project == []
    with pytest.raises(InvalidArgument) as bad:
        list(hook.list_hyperparameter_tuning_jobs(project_id=PROJECT, region=REGION, filter="x="))
    assert bad.value.violations[0].field == "filter"


def test_the_sdks_spec_classes_and_worker_pool_messages_are_accepted(
    hook: HyperparameterTuningJobHook,
) -> None:
    def space(module: object) -> dict[str, object]:
        return {
            "lr": module.DoubleParameterSpec(min=1e-4, max=0.1, scale="log"),  # type: ignore[attr-defined]
            "units": module.IntegerParameterSpec(min=4, max=64, scale="linear"),  # type: ignore[attr-defined]
            "act": module.CategoricalParameterSpec(  # type: ignore[attr-defined]
                values=["relu", "selu"],
                conditional_parameter_spec={
                    "alpha": module.DiscreteParameterSpec(  # type: ignore[attr-defined]
                        values=[0.5, 1.0], scale="linear", parent_values=["selu"]
                    )
                },
            ),
        }

    pool = aiplatform_v1.WorkerPoolSpec(
        machine_spec=aiplatform_v1.MachineSpec(
            machine_type="n1-standard-4", accelerator_type="NVIDIA_TESLA_T4", accelerator_count=1
        ),
        replica_count=1,
        container_spec=aiplatform_v1.ContainerSpec(**worker_pools()[0]["container_spec"]),
    )
    created = {}
    for label, module, pools in (
        ("sdk", sdk_hpt, [pool]),
        ("ours", __import__("tuneyard.hyperparameter_tuning", fromlist=["x"]), worker_pools()),
    ):
        job = hook.create_hyperparameter_tuning_job(
            project_id=PROJECT,
            region=REGION,
            display_name=unique(label),
            metric_spec={"score": "maximize"},
            parameter_spec=space(module),
            max_trial_count=1,
            parallel_trial_count=1,
            worker_pool_specs=pools,
        )
        created[label] = hook.get_hyperparameter_tuning_job(
            project_id=PROJECT, region=REGION, hyperparameter_tuning_job=job.name
        )
    assert created["sdk"].study_spec == created["ours"].study_spec
    assert created["sdk"].state.name == "JOB_STATE_SUCCEEDED"
    [sdk_pool] = created["sdk"].trial_spec.worker_pool_specs
    assert sdk_pool.machine_spec is not None
    assert sdk_pool.machine_spec.accelerator_type.name == "NVIDIA_TESLA_T4"
    assert sdk_pool.container_spec == created["ours"].trial_spec.worker_pool_specs[0].container_spec


def test_our_classes_mirror_the_sdks_attributes() -> None:
    ours = [
        DoubleParameterSpec(min=0.1, max=1.0, scale="log"),
        IntegerParameterSpec(min=1, max=3, scale="linear"),
        CategoricalParameterSpec(values=["a"]),
        DiscreteParameterSpec(values=[1, 2], scale="linear", parent_values=[1]),
    ]
    theirs = [
        sdk_hpt.DoubleParameterSpec(min=0.1, max=1.0, scale="log"),
        sdk_hpt.IntegerParameterSpec(min=1, max=3, scale="linear"),
        sdk_hpt.CategoricalParameterSpec(values=["a"]),
        sdk_hpt.DiscreteParameterSpec(values=[1, 2], scale="linear", parent_values=[1]),
    ]
    for mine, sdk in zip(ours, theirs, strict=True):
        assert type(mine).__name__ == type(sdk).__name__
        assert vars(mine) == vars(sdk)
