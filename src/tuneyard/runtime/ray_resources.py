"""What a replica asks Ray for: ``machineSpec`` as Ray resources.

Vertex names machines, Ray counts resources. A replica's ``machineSpec`` becomes a Ray resource
request by this table (the same numbers of vCPUs and GPUs Google Cloud gives the machine):

==========================================  =========================  ==========================
machine type                                Ray resources              rule
==========================================  =========================  ==========================
``<family>-<shape>-<N>`` (``n1-standard-4``,  ``{"CPU": N}``             the trailing number is
``e2-highmem-8``, ``n2-highcpu-16``,                                   the machine's vCPU count
``c2-standard-30``, ``g2-standard-12``)
``a2-highgpu-<G>g``, ``a2-ultragpu-<G>g``   ``{"CPU": 12 G}``          12 vCPUs per A100
``a2-megagpu-16g``                          ``{"CPU": 96}``
``a3-highgpu-<G>g``                         ``{"CPU": 26 G}``          26 vCPUs per H100
``e2-micro``, ``e2-small``, ``e2-medium``   ``{"CPU": 2}``             shared-core machines
``""`` (no machine spec)                    ``{"CPU": 1}``
==========================================  =========================  ==========================

``acceleratorCount`` adds ``{"GPU": acceleratorCount}``. Memory is not reserved (Ray schedules
memory only when asked, and a machine type's memory rarely matches a node's).

The table can be overridden per machine type with ``$TUNEYARD_RAY_RESOURCES`` (or the
``resources`` argument of :class:`~tuneyard.runtime.ray.RayExecutor`): a JSON object from machine
type to Ray resources, where ``"*"`` stands for every type not named. An override replaces the
CPUs and custom resources of the table; ``acceleratorCount`` still adds GPUs unless the override
names ``GPU`` itself::

    TUNEYARD_RAY_RESOURCES='{"n1-standard-4": {"CPU": 1}, "*": {"CPU": 2, "big_disk": 1}}'
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping

from tuneyard.errors import FieldViolation, InvalidArgument
from tuneyard.model import MachineSpec

RESOURCES_ENV = "TUNEYARD_RAY_RESOURCES"
DEFAULT_CPUS = 1.0
ANY_MACHINE = "*"

_GPU_MACHINES = re.compile(r"^a(?P<generation>[23])-(?:highgpu|ultragpu)-(?P<gpus>\d+)g$")
_CPUS_PER_GPU = {"2": 12, "3": 26}
_FIXED = {"a2-megagpu-16g": 96.0, "e2-micro": 2.0, "e2-small": 2.0, "e2-medium": 2.0}
_TRAILING_CPUS = re.compile(r"^[a-z][a-z0-9]*-[a-z0-9]+-(?P<cpus>\d+)(?:-[a-z0-9]+)?$")

Resources = dict[str, float]


def machine_cpus(machine_type: str) -> float:
    """The vCPUs of a Google Cloud machine type by the table above.

    Raises:
        InvalidArgument: a machine type the table cannot read (give its resources in
            ``$TUNEYARD_RAY_RESOURCES``).

    Example:
        >>> [machine_cpus(t) for t in ("n1-standard-4", "e2-highmem-8", "a2-highgpu-2g")]
        [4.0, 8.0, 24.0]
    """
    if not machine_type:
        return DEFAULT_CPUS
    if machine_type in _FIXED:
        return _FIXED[machine_type]
    gpu = _GPU_MACHINES.match(machine_type)
    if gpu:
        return float(_CPUS_PER_GPU[gpu["generation"]] * int(gpu["gpus"]))
    plain = _TRAILING_CPUS.match(machine_type)
    if plain:
        return float(plain["cpus"])
    raise InvalidArgument(
        f"machine type {machine_type!r} has no vCPU count tuneyard knows; give its Ray "
        f'resources in ${RESOURCES_ENV}, e.g. \'{{"{machine_type}": {{"CPU": 4}}}}\''
    )


def parse_overrides(text: str, *, origin: str = RESOURCES_ENV) -> dict[str, Resources]:
    """Read a JSON override table (see the module docstring).

    Raises:
        InvalidArgument: not a JSON object of objects of non-negative numbers.
    """
    try:
        data = json.loads(text)
    except ValueError as error:
        raise InvalidArgument(f"{origin}: not JSON: {error}") from error
    if not isinstance(data, dict):
        raise InvalidArgument(f"{origin}: must be a JSON object from machine type to resources")
    table: dict[str, Resources] = {}
    for machine_type, resources in data.items():
        table[machine_type] = _resources(resources, f"{origin}[{machine_type!r}]")
    return table


def _resources(value: object, field: str) -> Resources:
    if not isinstance(value, dict):
        raise InvalidArgument([FieldViolation(field, 'must be an object like {"CPU": 4}')])
    resources: Resources = {}
    for name, amount in value.items():
        if isinstance(amount, bool) or not isinstance(amount, int | float) or amount < 0:
            raise InvalidArgument(
                [FieldViolation(f"{field}[{name!r}]", f"must be a number >= 0, got {amount!r}")]
            )
        resources[str(name)] = float(amount)
    return resources


def env_overrides() -> dict[str, Resources]:
    """The table in ``$TUNEYARD_RAY_RESOURCES`` (empty when unset)."""
    text = os.environ.get(RESOURCES_ENV, "").strip()
    return parse_overrides(text) if text else {}


def replica_resources(
    machine: MachineSpec | None, overrides: Mapping[str, Mapping[str, float]] | None = None
) -> Resources:
    """The Ray resources one replica of a pool with this ``machineSpec`` asks for.

    Args:
        machine: the pool's machine spec (None: no spec, one CPU).
        overrides: machine type to resources, ``"*"`` for the rest (see the module docstring).

    Returns:
        ``{"CPU": ..., "GPU": ..., <custom>: ...}`` without zero amounts other than ``CPU``.

    Example:
        >>> from tuneyard.model import MachineSpec
        >>> spec = MachineSpec(machine_type="n1-standard-8", accelerator_count=2)
        >>> replica_resources(spec)
        {'CPU': 8.0, 'GPU': 2.0}
        >>> replica_resources(spec, {"n1-standard-8": {"CPU": 1, "fast_disk": 1}})
        {'CPU': 1.0, 'fast_disk': 1.0, 'GPU': 2.0}
    """
    machine_type = machine.machine_type if machine is not None else ""
    overrides = overrides or {}
    override = overrides.get(machine_type, overrides.get(ANY_MACHINE))
    if override is not None:
        resources = {name: float(amount) for name, amount in override.items()}
        resources.setdefault("CPU", 0.0)
    else:
        resources = {"CPU": machine_cpus(machine_type)}
    gpus = machine.accelerator_count if machine is not None else 0
    if gpus and "GPU" not in resources:
        resources["GPU"] = float(gpus)
    return {k: v for k, v in resources.items() if v or k == "CPU"}
