"""Long-running operations in the store: named under their parent, kept, found by exact name."""

from __future__ import annotations

import pytest

from tuneyard.errors import NotFound
from tuneyard.model import Operation
from tuneyard.store import SqlStore

PARENT = "projects/p/locations/us-central1"
EMPTY = {"@type": "type.googleapis.com/google.protobuf.Empty"}


def test_operation_round_trips_with_a_new_name(store: SqlStore) -> None:
    metadata = {"@type": "type.googleapis.com/x.Meta", "genericMetadata": {"createTime": "t"}}
    first = store.create_operation(PARENT, Operation(done=True, metadata=metadata, response=EMPTY))
    second = store.create_operation(PARENT + "/hyperparameterTuningJobs/7", Operation())
    assert first.name.startswith(PARENT + "/operations/")
    assert second.name.startswith(PARENT + "/hyperparameterTuningJobs/7/operations/")
    assert first.name.rsplit("/", 1)[1] != second.name.rsplit("/", 1)[1]
    got = store.get_operation(first.name)
    assert got == first
    assert got.done and got.response == EMPTY and got.metadata == metadata
    assert store.get_operation(second.name).done is False


@pytest.mark.parametrize(
    "suffix", ["operations/999", "operations/abc", "operations/", "nonsense", "operations/1/x"]
)
def test_unknown_operation_is_not_found(store: SqlStore, suffix: str) -> None:
    store.create_operation(PARENT, Operation(done=True, response=EMPTY))
    with pytest.raises(NotFound):
        store.get_operation(f"{PARENT}/{suffix}")


def test_operation_of_another_parent_is_not_found(store: SqlStore) -> None:
    created = store.create_operation(PARENT, Operation(done=True, response=EMPTY))
    other = created.name.replace("projects/p/", "projects/q/")
    with pytest.raises(NotFound):
        store.get_operation(other)
