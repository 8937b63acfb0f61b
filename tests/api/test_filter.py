"""The AIP-160 filter: what each field and operator matches, and errors that say where."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from tuneyard.api import compile_filter
from tuneyard.errors import InvalidArgument
from tuneyard.model import HyperparameterTuningJob, JobState

JOB = HyperparameterTuningJob(
    display_name="my_job_1",
    state=JobState.JOB_STATE_SUCCEEDED,
    labels={"team": "ml", "tier": "gold"},
    create_time=datetime(2026, 5, 18, 12, 0, tzinfo=timezone.utc),
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", True),
        ('state="JOB_STATE_SUCCEEDED" AND display_name:"my_job_*"', True),
        ("state=JOB_STATE_SUCCEEDED", True),
        ("state=4", True),
        ("state!=JOB_STATE_SUCCEEDED", False),
        ('NOT display_name="my_job"', True),
        ('display_name="my_job_1"', True),
        ('displayName="my_job_1"', True),
        ('display_name:"other*"', False),
        ("labels.team:*", True),
        ("labels.keyB:*", False),
        ("labels.team=ml", True),
        ('labels.team!="ml"', False),
        ('create_time>"2021-05-18T00:00:00Z"', True),
        ('createTime<"2026-05-18T12:00:00Z"', False),
        ('create_time<="2026-05-18T12:00:00Z"', True),
        ('create_time>="2026-05-18T14:00:00+02:00"', True),
        ('end_time>"2021-01-01T00:00:00Z"', False),
        ('end_time!="2021-01-01T00:00:00Z"', True),
        ("state=JOB_STATE_FAILED OR labels.tier=gold", True),
        ("state=JOB_STATE_FAILED OR labels.tier=gold AND labels.team=x", False),
        ("(state=JOB_STATE_FAILED OR labels.tier=gold) labels.team=ml", True),
        ("-labels.team=ml", False),
        ("NOT (state=4 AND labels.team=ml)", False),
    ],
)
def test_filter_matches(text: str, expected: bool) -> None:
    assert compile_filter(text)(JOB) is expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("state<4", "column 6"),
        ("foo=1", "unknown field 'foo'"),
        ('state="DONE"', "'DONE' is not a JobState"),
        ("(state=4", "unexpected end of filter"),
        ("state=4 AND", "unexpected end of filter"),
        ("state=4 )", "unexpected ')' at column 9"),
        ('create_time>"yesterday"', "not an RFC 3339 timestamp at column 13"),
        ("create_time:*", "does not support ':'"),
        ("labels=ml", "labels.KEY"),
        ("labels.a<b", "not '<'"),
        ("display_name>a", "does not support '>'"),
    ],
)
def test_bad_filter_says_where(text: str, message: str) -> None:
    with pytest.raises(InvalidArgument) as info:
        compile_filter(text)
    assert info.value.violations[0].field == "filter"
    assert message in info.value.message
