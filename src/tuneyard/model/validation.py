"""Every documented rule of a HyperparameterTuningJob, checked before a job is accepted.

``validate_job`` collects all violations and raises one :class:`InvalidArgument` that names each
field path and the rule it breaks. It returns notices: things accepted but not acted on yet.
"""

from __future__ import annotations

import itertools
import math
import re
import unicodedata

from tuneyard.errors import FieldViolation, InvalidArgument
from tuneyard.model.custom_job import CustomJobSpec, WorkerPoolSpec
from tuneyard.model.enums import Algorithm, ObservationNoise, ScaleType
from tuneyard.model.job import HyperparameterTuningJob
from tuneyard.model.study import ConditionalParameterSpec, ParameterSpec, StudySpec

MAX_DISPLAY_NAME = 128
MAX_LABELS = 64
MAX_LABEL_LENGTH = 64
MAX_DISCRETE_VALUES = 1000
DISCRETE_EPSILON = 1e-10
MAX_ENV = 100
MAX_PACKAGE_URIS = 100
_WHITESPACE = re.compile(r"\s")


class _Checker:
    def __init__(self) -> None:
        self.violations: list[FieldViolation] = []
        self.notices: list[str] = []

    def fail(self, path: str, rule: str) -> None:
        self.violations.append(FieldViolation(path, rule))


def _label_char_ok(char: str) -> bool:
    if char in "_-" or char.isdigit():
        return True
    # Lowercase letters, and letters of scripts without case ("international characters").
    return char.isalpha() and not char.isupper() and unicodedata.category(char) != "Lt"


def _check_labels(c: _Checker, labels: dict[str, str], path: str) -> None:
    if len(labels) > MAX_LABELS:
        c.fail(path, f"at most {MAX_LABELS} labels are allowed, got {len(labels)}")
    for key, value in labels.items():
        where = f"{path}[{key!r}]"
        if not key:
            c.fail(where, "label keys must not be empty")
        elif not (key[0].isalpha() and not key[0].isupper()):
            c.fail(where, f"label key {key!r} must start with a lowercase letter")
        if len(key) > MAX_LABEL_LENGTH:
            c.fail(where, f"label key is longer than {MAX_LABEL_LENGTH} characters")
        if len(value) > MAX_LABEL_LENGTH:
            c.fail(where, f"label value is longer than {MAX_LABEL_LENGTH} characters")
        for text, what in ((key, "key"), (value, "value")):
            bad = sorted({ch for ch in text if not _label_char_ok(ch)})
            if bad:
                c.fail(
                    where,
                    f"label {what} {text!r} may contain only lowercase letters, digits, '_' and "
                    f"'-'; found {''.join(bad)!r}",
                )


def _check_id(c: _Checker, value: str, path: str, what: str) -> None:
    if not value:
        c.fail(path, f"{what} is required")
    elif _WHITESPACE.search(value):
        c.fail(path, f"{what} {value!r} must not contain whitespace")


def _check_parameter(c: _Checker, spec: ParameterSpec, path: str, grid: bool) -> None:
    _check_id(c, spec.parameter_id, f"{path}.parameterId", "parameterId")
    kinds = [
        name
        for name, value in (
            ("doubleValueSpec", spec.double_value_spec),
            ("integerValueSpec", spec.integer_value_spec),
            ("categoricalValueSpec", spec.categorical_value_spec),
            ("discreteValueSpec", spec.discrete_value_spec),
        )
        if value is not None
    ]
    if not kinds:
        c.fail(
            path,
            "one of doubleValueSpec, integerValueSpec, categoricalValueSpec or discreteValueSpec "
            "is required",
        )
        return
    if len(kinds) > 1:
        c.fail(path, f"only one value spec may be set, got {' and '.join(kinds)}")
        return
    log = spec.scale_type in (ScaleType.UNIT_LOG_SCALE, ScaleType.UNIT_REVERSE_LOG_SCALE)
    scale = spec.scale_type.name
    if spec.double_value_spec is not None:
        d = spec.double_value_spec
        where = f"{path}.doubleValueSpec"
        if not (math.isfinite(d.min_value) and math.isfinite(d.max_value)):
            c.fail(where, "minValue and maxValue must be finite numbers")
        elif d.min_value > d.max_value:
            c.fail(where, f"minValue {d.min_value!r} is greater than maxValue {d.max_value!r}")
        elif log and d.min_value <= 0:
            c.fail(where, f"{scale} needs a positive range, but minValue is {d.min_value!r}")
        if d.default_value is not None:
            c.fail(f"{where}.defaultValue", _NO_DEFAULT)
        if grid:
            c.fail(
                path, "GRID_SEARCH needs INTEGER, CATEGORICAL or DISCRETE parameters, not DOUBLE"
            )
    elif spec.integer_value_spec is not None:
        i = spec.integer_value_spec
        where = f"{path}.integerValueSpec"
        if i.min_value > i.max_value:
            c.fail(where, f"minValue {i.min_value} is greater than maxValue {i.max_value}")
        elif log and i.min_value <= 0:
            c.fail(where, f"{scale} needs a positive range, but minValue is {i.min_value}")
        if i.default_value is not None:
            c.fail(f"{where}.defaultValue", _NO_DEFAULT)
    elif spec.categorical_value_spec is not None:
        categories = spec.categorical_value_spec.values
        where = f"{path}.categoricalValueSpec.values"
        if not categories:
            c.fail(where, "at least one value is required")
        if len(set(categories)) != len(categories):
            c.fail(where, "values must be unique")
        if spec.scale_type != ScaleType.SCALE_TYPE_UNSPECIFIED:
            c.fail(f"{path}.scaleType", f"must be unset for a CATEGORICAL parameter, got {scale}")
        if spec.categorical_value_spec.default_value is not None:
            c.fail(f"{path}.categoricalValueSpec.defaultValue", _NO_DEFAULT)
    elif spec.discrete_value_spec is not None:
        values = spec.discrete_value_spec.values
        where = f"{path}.discreteValueSpec.values"
        if not values:
            c.fail(where, "at least one value is required")
        if len(values) > MAX_DISCRETE_VALUES:
            c.fail(where, f"at most {MAX_DISCRETE_VALUES} values are allowed, got {len(values)}")
        if not all(math.isfinite(v) for v in values):
            c.fail(where, "values must be finite numbers")
        for index, (low, high) in enumerate(itertools.pairwise(values)):
            if high <= low:
                c.fail(where, f"values must be in increasing order; {high!r} follows {low!r}")
                break
            if high - low < DISCRETE_EPSILON:
                c.fail(
                    f"{where}[{index + 1}]",
                    f"values must be at least {DISCRETE_EPSILON} apart; "
                    f"{low!r} and {high!r} are not",
                )
                break
        if log and values and min(values) <= 0:
            c.fail(where, f"{scale} needs positive values, but {min(values)!r} is not")
        if spec.discrete_value_spec.default_value is not None:
            c.fail(f"{path}.discreteValueSpec.defaultValue", _NO_DEFAULT)
    _check_children(c, spec, path, grid)


_NO_DEFAULT = (
    "defaultValue is supported only by Vertex AI Vizier, not by hyperparameter tuning jobs"
)


def _condition_values(child: ConditionalParameterSpec) -> tuple[str, list[object]] | None:
    set_conditions = [
        (name, list(cond.values))
        for name, cond in (
            ("parentDiscreteValues", child.parent_discrete_values),
            ("parentIntValues", child.parent_int_values),
            ("parentCategoricalValues", child.parent_categorical_values),
        )
        if cond is not None
    ]
    return set_conditions[0] if len(set_conditions) == 1 else None


_CONDITION_FOR_KIND = {
    "INTEGER": "parentIntValues",
    "CATEGORICAL": "parentCategoricalValues",
    "DISCRETE": "parentDiscreteValues",
}


def _in_parent(parent: ParameterSpec, value: object) -> bool:
    if parent.integer_value_spec is not None:
        spec = parent.integer_value_spec
        return isinstance(value, int) and spec.min_value <= value <= spec.max_value
    if parent.categorical_value_spec is not None:
        return value in parent.categorical_value_spec.values
    if parent.discrete_value_spec is not None:
        return isinstance(value, float) and any(
            abs(value - v) <= DISCRETE_EPSILON for v in parent.discrete_value_spec.values
        )
    return False


def _check_children(c: _Checker, parent: ParameterSpec, path: str, grid: bool) -> None:
    if not parent.conditional_parameter_specs:
        return
    kind = parent.kind
    if kind == "DOUBLE":
        c.fail(
            f"{path}.conditionalParameterSpecs",
            "a DOUBLE parameter cannot have conditional parameters (there is no double condition)",
        )
        return
    seen: dict[str, list[set[object]]] = {}
    for index, child in enumerate(parent.conditional_parameter_specs):
        where = f"{path}.conditionalParameterSpecs[{index}]"
        condition = _condition_values(child)
        expected = _CONDITION_FOR_KIND[kind]
        if condition is None:
            c.fail(
                where, f"exactly one parent condition is required: {expected} for a {kind} parent"
            )
        else:
            name, values = condition
            if name != expected:
                c.fail(f"{where}.{name}", f"a {kind} parent needs {expected}, not {name}")
            elif not values:
                c.fail(f"{where}.{name}.values", "at least one parent value is required")
            else:
                for value in values:
                    if not _in_parent(parent, value):
                        c.fail(
                            f"{where}.{name}.values",
                            f"{value!r} is not a value of parent {parent.parameter_id!r}",
                        )
                if child.parameter_spec is not None:
                    previous = seen.setdefault(child.parameter_spec.parameter_id, [])
                    if any(prior & set(values) for prior in previous):
                        c.fail(
                            where,
                            f"children named {child.parameter_spec.parameter_id!r} must have "
                            "disjoint parent values",
                        )
                    previous.append(set(values))
        if child.parameter_spec is None:
            c.fail(f"{where}.parameterSpec", "parameterSpec is required")
        else:
            _check_parameter(c, child.parameter_spec, f"{where}.parameterSpec", grid)


def _ids(spec: ParameterSpec, path: str, out: list[tuple[str, str, str]], parent: str) -> None:
    out.append((spec.parameter_id, path, parent))
    for index, child in enumerate(spec.conditional_parameter_specs):
        if child.parameter_spec is not None:
            _ids(
                child.parameter_spec,
                f"{path}.conditionalParameterSpecs[{index}].parameterSpec",
                out,
                path,
            )


def _check_study(c: _Checker, study: StudySpec | None, path: str) -> None:
    if study is None:
        c.fail(path, "studySpec is required")
        return
    if not study.metrics:
        c.fail(f"{path}.metrics", "at least one metric is required")
    metric_ids: set[str] = set()
    for index, metric in enumerate(study.metrics):
        where = f"{path}.metrics[{index}].metricId"
        _check_id(c, metric.metric_id, where, "metricId")
        if metric.metric_id in metric_ids:
            c.fail(where, f"duplicate metricId {metric.metric_id!r}")
        metric_ids.add(metric.metric_id)
    if not study.parameters:
        c.fail(f"{path}.parameters", "at least one parameter is required")
    grid = study.algorithm == Algorithm.GRID_SEARCH
    all_ids: list[tuple[str, str, str]] = []
    for index, parameter in enumerate(study.parameters):
        where = f"{path}.parameters[{index}]"
        _check_parameter(c, parameter, where, grid)
        _ids(parameter, where, all_ids, "")
    # Ids are unique across the tree, except siblings under one parent (disjoint conditions).
    first: dict[str, tuple[str, str]] = {}
    for parameter_id, where, parent in all_ids:
        if not parameter_id:
            continue
        if (parameter_id in first and first[parameter_id][1] != parent) or (
            parameter_id in first and not parent
        ):
            c.fail(f"{where}.parameterId", f"duplicate parameterId {parameter_id!r}")
        first.setdefault(parameter_id, (where, parent))
    stopping = [
        name
        for name, value in (
            ("decayCurveStoppingSpec", study.decay_curve_stopping_spec),
            ("medianAutomatedStoppingSpec", study.median_automated_stopping_spec),
            ("convexAutomatedStoppingSpec", study.convex_automated_stopping_spec),
        )
        if value is not None
    ]
    if len(stopping) > 1:
        c.fail(path, f"only one automated stopping spec may be set, got {' and '.join(stopping)}")
    elif stopping:
        c.notices.append(
            f"{path}.{stopping[0]} is accepted and kept, but automated stopping is not applied "
            "yet: trials run to their end"
        )
    if study.study_stopping_config is not None:
        c.notices.append(f"{path}.studyStoppingConfig is accepted and kept, but not applied yet")
    if study.observation_noise != ObservationNoise.OBSERVATION_NOISE_UNSPECIFIED:
        c.fail(
            f"{path}.observationNoise",
            "observationNoise is supported only by Vertex AI Vizier, not by tuning jobs",
        )


def _check_pool(c: _Checker, pool: WorkerPoolSpec, path: str, primary: bool) -> None:
    if pool.is_empty:
        if primary:
            c.fail(path, "the first worker pool is required and must not be empty")
        return
    tasks = [s for s in (pool.container_spec, pool.python_package_spec) if s is not None]
    if not tasks:
        c.fail(path, "one of containerSpec or pythonPackageSpec is required")
    elif len(tasks) > 1:
        c.fail(path, "only one of containerSpec and pythonPackageSpec may be set")
    if pool.replica_count < 1:
        c.fail(f"{path}.replicaCount", f"must be at least 1, got {pool.replica_count}")
    elif primary and pool.replica_count != 1:
        c.fail(
            f"{path}.replicaCount",
            f"the first worker pool must have 1 replica, got {pool.replica_count}",
        )
    if pool.container_spec is not None:
        spec = pool.container_spec
        if not spec.image_uri:
            c.fail(f"{path}.containerSpec.imageUri", "imageUri is required")
        if not spec.command:
            c.fail(
                f"{path}.containerSpec.command",
                "command is required: tuneyard runs it on this machine in place of the image's "
                "entrypoint",
            )
        env = spec.env
        env_path = f"{path}.containerSpec.env"
    elif pool.python_package_spec is not None:
        package = pool.python_package_spec
        where = f"{path}.pythonPackageSpec"
        if not package.executor_image_uri:
            c.fail(f"{where}.executorImageUri", "executorImageUri is required")
        if not package.package_uris:
            c.fail(f"{where}.packageUris", "at least one package URI is required")
        if len(package.package_uris) > MAX_PACKAGE_URIS:
            c.fail(f"{where}.packageUris", f"at most {MAX_PACKAGE_URIS} package URIs are allowed")
        if not package.python_module:
            c.fail(f"{where}.pythonModule", "pythonModule is required")
        env = package.env
        env_path = f"{where}.env"
    else:
        return
    if len(env) > MAX_ENV:
        c.fail(env_path, f"at most {MAX_ENV} environment variables are allowed, got {len(env)}")
    for index, var in enumerate(env):
        if not var.name:
            c.fail(f"{env_path}[{index}].name", "name is required")


def _check_trial_job_spec(c: _Checker, spec: CustomJobSpec | None, path: str) -> None:
    if spec is None:
        c.fail(path, "trialJobSpec is required")
        return
    if not spec.worker_pool_specs:
        c.fail(f"{path}.workerPoolSpecs", "at least one worker pool is required")
    for index, pool in enumerate(spec.worker_pool_specs):
        _check_pool(c, pool, f"{path}.workerPoolSpecs[{index}]", primary=index == 0)
    if spec.scheduling is not None:
        timeout = spec.scheduling.timeout
        if timeout is not None and timeout.total_seconds() <= 0:
            c.fail(f"{path}.scheduling.timeout", "must be positive")
    if spec.base_output_directory is not None:
        prefix = spec.base_output_directory.output_uri_prefix
        where = f"{path}.baseOutputDirectory.outputUriPrefix"
        if not prefix:
            c.fail(where, "outputUriPrefix is required")
        elif not (prefix.startswith(("gs://", "/"))):
            c.fail(where, f"must be a gs:// URI or an absolute local path, got {prefix!r}")


def validate_job(job: HyperparameterTuningJob) -> list[str]:
    """Check every rule; raise InvalidArgument listing each violation, else return notices.

    Example:
        >>> from tuneyard.model import HyperparameterTuningJob
        >>> validate_job(HyperparameterTuningJob(display_name="x"))  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        tuneyard.errors.InvalidArgument: studySpec: studySpec is required; ...
    """
    c = _Checker()
    if not job.display_name:
        c.fail("displayName", "displayName is required")
    elif len(job.display_name) > MAX_DISPLAY_NAME:
        c.fail(
            "displayName",
            f"must be at most {MAX_DISPLAY_NAME} characters, got {len(job.display_name)}",
        )
    _check_labels(c, job.labels, "labels")
    _check_study(c, job.study_spec, "studySpec")
    if job.max_trial_count < 1:
        c.fail("maxTrialCount", f"must be at least 1, got {job.max_trial_count}")
    if job.parallel_trial_count < 1:
        c.fail("parallelTrialCount", f"must be at least 1, got {job.parallel_trial_count}")
    elif job.max_trial_count >= 1 and job.parallel_trial_count > job.max_trial_count:
        c.fail(
            "parallelTrialCount",
            f"{job.parallel_trial_count} is greater than maxTrialCount {job.max_trial_count}",
        )
    if job.max_failed_trial_count < 0:
        c.fail("maxFailedTrialCount", f"must not be negative, got {job.max_failed_trial_count}")
    _check_trial_job_spec(c, job.trial_job_spec, "trialJobSpec")
    if job.encryption_spec is not None and not job.encryption_spec.kms_key_name:
        c.fail("encryptionSpec.kmsKeyName", "kmsKeyName is required")
    if c.violations:
        raise InvalidArgument(c.violations)
    return c.notices


def validate_study_spec(study: StudySpec, path: str = "studySpec") -> None:
    """Check a study spec alone by the same rules as a job's; raise InvalidArgument if broken.

    Example:
        >>> validate_study_spec(StudySpec())  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        tuneyard.errors.InvalidArgument: studySpec.metrics: at least one metric is required; ...
    """
    c = _Checker()
    _check_study(c, study, path)
    if c.violations:
        raise InvalidArgument(c.violations)
