"""``HyperparameterTuningJobHook`` bound to Airflow: the client hook as an Airflow ``BaseHook``.

The client's hook (``tuneyard.client``) already has the Google provider's interface and reads
its endpoint from the Airflow connection named by ``gcp_conn_id``. This subclass adds what
Airflow itself looks for on a hook class: the ``tuneyard`` connection type, the name of the
connection-id argument, the default connection, and the connection form for Airflow 2.10 to
3.1 (Airflow 3.2+ reads the form from :func:`tuneyard.airflow.provider.get_provider_info`).
"""

from __future__ import annotations

from typing import Any, ClassVar

from tuneyard.airflow._compat import BaseHook
from tuneyard.airflow.provider import CONN_TYPE, EXTRA_FIELDS, FIELD_BEHAVIOUR, HOOK_NAME
from tuneyard.client import HyperparameterTuningJobHook as ClientHook

__all__ = ["HyperparameterTuningJobHook"]


class HyperparameterTuningJobHook(ClientHook, BaseHook):
    """The provider's ``HyperparameterTuningJobHook``, speaking to tuneyard, as an Airflow hook.

    Same constructor and methods as :class:`tuneyard.client.HyperparameterTuningJobHook`; errors
    are ``AirflowException`` carrying the server's message.

    The connection (type ``tuneyard``): *Endpoint* (host) is the server's base URL, such as
    ``http://127.0.0.1:8080``; *Access token* (password) is the bearer token of
    ``tuneyard serve --token``; the extras ``project`` and ``is_anonymous`` work as in the
    Google provider's connection.

    Example:
        >>> hook = HyperparameterTuningJobHook(gcp_conn_id="tuneyard_default")
        >>> job = hook.get_hyperparameter_tuning_job(
        ...     project_id="demo", region="us-central1", hyperparameter_tuning_job="1")
        >>> job.state.name
        'JOB_STATE_SUCCEEDED'
    """

    conn_name_attr: ClassVar[str] = "gcp_conn_id"
    default_conn_name: ClassVar[str] = "google_cloud_default"
    conn_type: ClassVar[str] = CONN_TYPE
    hook_name: ClassVar[str] = HOOK_NAME

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        """Which standard fields the connection form hides, relabels and hints (Airflow < 3.2)."""
        return {key: value.copy() for key, value in FIELD_BEHAVIOUR.items()}

    @classmethod
    def get_connection_form_widgets(cls) -> dict[str, Any]:
        """The extra fields of the connection form (Airflow < 3.2, whose UI is Flask's)."""
        from flask_appbuilder.fieldwidgets import BS3TextFieldWidget
        from flask_babel import lazy_gettext
        from wtforms import BooleanField, StringField

        return {
            "project": StringField(
                lazy_gettext(EXTRA_FIELDS["project"]["label"]),
                widget=BS3TextFieldWidget(),
                description=EXTRA_FIELDS["project"]["description"],
            ),
            "is_anonymous": BooleanField(
                lazy_gettext(EXTRA_FIELDS["is_anonymous"]["label"]),
                description=EXTRA_FIELDS["is_anonymous"]["description"],
            ),
        }
