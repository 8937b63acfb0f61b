"""What the job service returns besides jobs: the list pager and the long-running operation.

Both behave as their ``google.api_core`` counterparts do: the pager fetches pages while it is
iterated; the operation's ``result(timeout)`` polls until it is done and raises its error.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

from tuneyard import errors
from tuneyard.client import resources
from tuneyard.client.rest import error_from_status
from tuneyard.model import Operation as OperationModel


class ListHyperparameterTuningJobsPager:
    """Iterates over every job of every page, fetching pages as needed.

    ``pages`` yields each :class:`~tuneyard.client.resources.ListHyperparameterTuningJobsResponse`;
    ``next_page_token`` and ``hyperparameter_tuning_jobs`` are the latest page's.
    """

    def __init__(
        self,
        fetch: Callable[[str], resources.ListHyperparameterTuningJobsResponse],
        response: resources.ListHyperparameterTuningJobsResponse,
    ) -> None:
        self._fetch = fetch
        self._response = response

    @property
    def next_page_token(self) -> str:
        """The latest page's token ("" after the last page)."""
        return self._response.next_page_token

    @property
    def hyperparameter_tuning_jobs(self) -> list[resources.HyperparameterTuningJob]:
        """The latest page's jobs."""
        return self._response.hyperparameter_tuning_jobs

    @property
    def pages(self) -> Iterator[resources.ListHyperparameterTuningJobsResponse]:
        """Every page, from the one already fetched to the last."""
        yield self._response
        while self._response.next_page_token:
            self._response = self._fetch(self._response.next_page_token)
            yield self._response

    def __iter__(self) -> Iterator[resources.HyperparameterTuningJob]:
        for page in self.pages:
            yield from page.hyperparameter_tuning_jobs

    def __repr__(self) -> str:
        return f"{type(self).__name__}<{self._response!r}>"


class Operation:
    """A long-running operation (``google.api_core.operation.Operation``'s interface).

    Args:
        operation: the operation as the server last returned it.
        refresh: fetches the operation again by name.
    """

    def __init__(self, operation: OperationModel, refresh: Callable[[str], OperationModel]) -> None:
        self._operation = operation
        self._refresh = refresh

    @property
    def operation(self) -> OperationModel:
        """The latest ``google.longrunning.Operation`` (``.name``, ``.done``, ``.error``)."""
        return self._operation

    @property
    def metadata(self) -> dict[str, Any] | None:
        """The operation's metadata (``DeleteOperationMetadata`` for a delete)."""
        return self._operation.metadata

    def done(self, retry: Any = None) -> bool:
        """Whether the operation has finished (asking the server when it had not)."""
        if not self._operation.done:
            self._operation = self._refresh(self._operation.name)
        return self._operation.done

    def running(self) -> bool:
        """Whether the operation is still running."""
        return not self.done()

    def cancelled(self) -> bool:
        """Whether the operation ended cancelled."""
        error = self._operation.error
        return bool(self._operation.done and error and error.code == errors.Code.CANCELLED)

    def exception(self, timeout: float | None = None) -> errors.TuneyardError | None:
        """The operation's error once it has finished, or None when it succeeded."""
        try:
            self.result(timeout=timeout)
        except errors.TuneyardError as error:
            return error
        return None

    def result(
        self, timeout: float | None = None, *, polling: Any = None, retry: Any = None
    ) -> Any:
        """Wait until the operation has finished; return its response (None for ``Empty``).

        Raises:
            DeadlineExceeded: it did not finish within ``timeout`` seconds.
            TuneyardError: it finished with an error (the exception of its code).
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        delay = 1.0
        while not self.done():
            if deadline is not None and time.monotonic() + delay > deadline:
                raise errors.DeadlineExceeded(
                    f"operation {self._operation.name} did not finish within {timeout} s"
                )
            time.sleep(delay)
            delay = min(delay * 1.5, 20.0)
        error = self._operation.error
        if error is not None and error.code:
            raise error_from_status(error.code, error.message or "the operation failed")
        response = dict(self._operation.response or {})
        response.pop("@type", None)
        return response or None


__all__ = ["ListHyperparameterTuningJobsPager", "Operation"]
