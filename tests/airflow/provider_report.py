"""What Airflow's ProvidersManager knows about tuneyard; run inside an Airflow venv.

Usage: ``provider_report.py AIRFLOW_HOME``. Prints one JSON line: the provider's version, the
``tuneyard`` connection type's hook (imported the way the UI and CLI do), its form fields and
field behaviour, and whether the trigger module is registered.
"""

from __future__ import annotations

import json
import os
import sys

os.environ["AIRFLOW_HOME"] = sys.argv[1]
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"

from airflow.providers_manager import ProvidersManager

manager = ProvidersManager()
provider = manager.providers.get("tuneyard")
hook = manager.hooks.get("tuneyard")
widgets = sorted(
    name for name in manager.connection_form_widgets if name.startswith("extra__tuneyard__")
)
print(
    json.dumps(
        {
            "version": provider.version if provider else None,
            "hook": {
                "class": hook.hook_class_name,
                "conn_id_attribute": hook.connection_id_attribute_name,
                "name": hook.hook_name,
                "package": hook.package_name,
            }
            if hook
            else None,
            "widgets": widgets,
            "behaviour": manager.field_behaviours.get("tuneyard"),
            "triggers": [
                info.trigger_class_name
                for info in manager.trigger
                if info.package_name == "tuneyard"
            ],
        }
    )
)
