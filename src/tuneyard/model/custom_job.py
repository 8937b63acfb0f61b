"""CustomJobSpec, the template of every trial (``custom_job.proto`` and its imports)."""

from __future__ import annotations

from pydantic import Field

from tuneyard.model._base import Duration, Int32, Int64, VertexModel
from tuneyard.model.enums import AcceleratorType, ReservationAffinityType, SchedulingStrategy


class EnvVar(VertexModel):
    """An environment variable of a container; ``$(VAR)`` in the value is expanded."""

    name: str = ""
    value: str = ""


class ContainerSpec(VertexModel):
    """A command to run. ``image_uri`` is recorded; locally, ``command`` + ``args`` run."""

    image_uri: str = ""
    command: list[str] = Field(default_factory=list)
    args: list[str] = Field(default_factory=list)
    env: list[EnvVar] = Field(default_factory=list)


class PythonPackageSpec(VertexModel):
    """A Python package to install and a module to run with ``python -m``."""

    executor_image_uri: str = ""
    package_uris: list[str] = Field(default_factory=list)
    python_module: str = ""
    args: list[str] = Field(default_factory=list)
    env: list[EnvVar] = Field(default_factory=list)


class ReservationAffinity(VertexModel):
    """Which Compute Engine reservation to consume (recorded)."""

    reservation_affinity_type: ReservationAffinityType = ReservationAffinityType.TYPE_UNSPECIFIED
    key: str = ""
    values: list[str] = Field(default_factory=list)


class MachineSpec(VertexModel):
    """The machine a replica asks for (recorded; used by the Ray executor for resources)."""

    machine_type: str = ""
    accelerator_type: AcceleratorType = AcceleratorType.ACCELERATOR_TYPE_UNSPECIFIED
    accelerator_count: Int32 = 0
    gpu_partition_size: str = ""
    tpu_topology: str = ""
    reservation_affinity: ReservationAffinity | None = None


class DiskSpec(VertexModel):
    """Boot disk of a replica (recorded)."""

    boot_disk_type: str = ""
    boot_disk_size_gb: Int32 = 0


class NfsMount(VertexModel):
    """An NFS mount (recorded)."""

    server: str = ""
    path: str = ""
    mount_point: str = ""


class LustreMount(VertexModel):
    """A Lustre mount (recorded)."""

    instance_ip: str = ""
    volume_handle: str = ""
    filesystem: str = ""
    mount_point: str = ""


class WorkerPoolSpec(VertexModel):
    """One pool of identical replicas. Pools after the first may be empty (skipped)."""

    container_spec: ContainerSpec | None = None
    python_package_spec: PythonPackageSpec | None = None
    machine_spec: MachineSpec | None = None
    replica_count: Int64 = 0
    nfs_mounts: list[NfsMount] = Field(default_factory=list)
    lustre_mounts: list[LustreMount] = Field(default_factory=list)
    disk_spec: DiskSpec | None = None

    @property
    def is_empty(self) -> bool:
        """True for a skipped pool: nothing set at all."""
        return self == WorkerPoolSpec()


class Scheduling(VertexModel):
    """Limits of each trial: a timeout, and whether to restart when a replica dies."""

    timeout: Duration | None = None
    restart_job_on_worker_restart: bool = False
    strategy: SchedulingStrategy = SchedulingStrategy.STRATEGY_UNSPECIFIED
    disable_retries: bool = False
    max_wait_duration: Duration | None = None


class GcsDestination(VertexModel):
    """A ``gs://`` prefix (mapped to a local bucket directory)."""

    output_uri_prefix: str = ""


class DnsPeeringConfig(VertexModel):
    """DNS peering of a PSC interface (recorded)."""

    domain: str = ""
    target_project: str = ""
    target_network: str = ""


class PscInterfaceConfig(VertexModel):
    """Private Service Connect interface (recorded)."""

    network_attachment: str = ""
    dns_peering_configs: list[DnsPeeringConfig] = Field(default_factory=list)


class CustomJobSpec(VertexModel):
    """The template every trial's job is built from."""

    persistent_resource_id: str = ""
    worker_pool_specs: list[WorkerPoolSpec] = Field(default_factory=list)
    scheduling: Scheduling | None = None
    service_account: str = ""
    network: str = ""
    reserved_ip_ranges: list[str] = Field(default_factory=list)
    psc_interface_config: PscInterfaceConfig | None = None
    base_output_directory: GcsDestination | None = None
    protected_artifact_location_id: str = ""
    tensorboard: str = ""
    enable_web_access: bool = False
    enable_dashboard_access: bool = False
    experiment: str = ""
    experiment_run: str = ""
    models: list[str] = Field(default_factory=list)
