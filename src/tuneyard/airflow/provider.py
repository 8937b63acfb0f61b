"""What Airflow learns about tuneyard as a provider: its connection type, hook and trigger.

Airflow finds this through the ``apache_airflow_provider`` entry point in ``pyproject.toml`` and
calls :func:`get_provider_info` in every process that looks at providers (the CLI, the API
server, workers), so this module imports nothing, Airflow least of all.

The connection form is described twice on purpose: declaratively here (``conn-fields`` and
``ui-field-behaviour``, which Airflow 3.2+ reads without importing the hook) and by the hook's
``get_connection_form_widgets`` / ``get_ui_field_behaviour`` (which Airflow 2.10 to 3.1 call).
"""

from __future__ import annotations

from typing import Any

CONN_TYPE = "tuneyard"
"""The connection type of :class:`tuneyard.airflow.hooks.HyperparameterTuningJobHook`."""

HOOK_NAME = "tuneyard (Vertex AI tuning jobs)"

FIELD_BEHAVIOUR: dict[str, Any] = {
    "hidden_fields": ["schema", "login"],
    "relabeling": {"host": "Endpoint", "password": "Access token"},
    "placeholders": {
        "host": "http://127.0.0.1:8080 (or https://us-central1-aiplatform.googleapis.com)",
        "port": "leave empty when the endpoint has its port",
        "password": "the token of `tuneyard serve --token` (empty on loopback)",
        "project": "the project of tasks that pass no project_id",
    },
}
"""How the standard connection fields are shown (the hook's ``get_ui_field_behaviour``)."""

EXTRA_FIELDS: dict[str, dict[str, Any]] = {
    "project": {
        "label": "Project",
        "description": "Default project for resource names.",
        "schema": {"type": ["string", "null"]},
    },
    "is_anonymous": {
        "label": "Anonymous",
        "description": "Send no credentials at all (a tuneyard server on loopback needs none).",
        "schema": {"type": ["boolean", "null"], "default": False},
    },
}
"""Fields kept in the connection's extras, declared the way Airflow 3.2+ reads them."""


def get_provider_info() -> dict[str, Any]:
    """Describe tuneyard to Airflow's ``ProvidersManager``.

    Returns:
        The provider-info dictionary: package name, connection type with its hook class and form,
        and the trigger module.

    Example:
        >>> get_provider_info()["connection-types"][0]["connection-type"]
        'tuneyard'
    """
    behaviour = {
        "hidden-fields": FIELD_BEHAVIOUR["hidden_fields"],
        "relabeling": FIELD_BEHAVIOUR["relabeling"],
        "placeholders": FIELD_BEHAVIOUR["placeholders"],
    }
    return {
        "package-name": "tuneyard",
        "name": "tuneyard",
        "description": "Self-hosted, Vertex AI compatible hyperparameter tuning jobs.",
        "integrations": [
            {"integration-name": "tuneyard", "tags": ["software"]},
        ],
        "hooks": [
            {"integration-name": "tuneyard", "python-modules": ["tuneyard.airflow.hooks"]},
        ],
        "operators": [
            {"integration-name": "tuneyard", "python-modules": ["tuneyard.airflow.operators"]},
        ],
        "triggers": [
            {"integration-name": "tuneyard", "python-modules": ["tuneyard.airflow.triggers"]},
        ],
        "connection-types": [
            {
                "connection-type": CONN_TYPE,
                "hook-class-name": "tuneyard.airflow.hooks.HyperparameterTuningJobHook",
                "hook-name": HOOK_NAME,
                "conn-fields": EXTRA_FIELDS,
                "ui-field-behaviour": behaviour,
            }
        ],
    }
