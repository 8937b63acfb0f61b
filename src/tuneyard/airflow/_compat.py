"""The Airflow names tuneyard's operators build on, from Airflow 3 (``airflow.sdk``) or 2.10+.

Airflow 3 moved the authoring interface to the Task SDK; Airflow 2 keeps it in ``airflow.models``
and ``airflow.hooks``. Everything else in ``tuneyard.airflow`` imports these names from here, so
the difference lives in one place.
"""

from __future__ import annotations

try:
    import airflow  # noqa: F401
except ImportError as error:  # pragma: no cover - the message is the point
    raise ImportError(
        "tuneyard.airflow needs Apache Airflow 2.10 or newer: pip install 'apache-airflow>=2.10'"
    ) from error

try:
    from airflow.sdk import BaseHook, BaseOperator, BaseOperatorLink, Context, conf
except ImportError:  # Airflow 2.10 / 2.11
    from airflow.configuration import conf
    from airflow.hooks.base import BaseHook
    from airflow.models.baseoperator import BaseOperator, BaseOperatorLink
    from airflow.utils.context import Context

from airflow.exceptions import AirflowException
from airflow.triggers.base import BaseTrigger, TriggerEvent

__all__ = [
    "AirflowException",
    "BaseHook",
    "BaseOperator",
    "BaseOperatorLink",
    "BaseTrigger",
    "Context",
    "TriggerEvent",
    "conf",
    "default_deferrable",
    "xcom_value",
]


def default_deferrable() -> bool:
    """``[operators] default_deferrable`` from Airflow's configuration, as the provider reads it."""
    return bool(conf.getboolean("operators", "default_deferrable", fallback=False))


def xcom_value(ti_key: object, key: str) -> object:
    """The XCom ``key`` of a task instance, read the way each Airflow version allows."""
    try:
        from airflow.sdk.execution_time.xcom import XCom
    except ImportError:  # Airflow 2.10 / 2.11
        from airflow.models.xcom import XCom
    return XCom.get_value(ti_key=ti_key, key=key)
