"""The proto3 JSON mapping as pydantic types: the base model and the scalar types Vertex uses.

Vertex's JSON is read the way Google's front ends read it: camelCase or snake_case field names,
enums as names or numbers, int64 as strings or numbers, RFC 3339 timestamps, ``"3.5s"``
durations, and absent fields meaning zero values. It is written the way they write it: camelCase,
enums as names (or numbers when asked), int64 as strings, zero values left out.
"""

from __future__ import annotations

import enum
import math
import re
from datetime import datetime, timedelta, timezone
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    GetCoreSchemaHandler,
    PlainSerializer,
    SerializationInfo,
)
from pydantic.alias_generators import to_camel
from pydantic_core import core_schema


def _want_int_enums(info: SerializationInfo) -> bool:
    context = info.context
    return isinstance(context, dict) and bool(context.get("enum_int"))


class ProtoEnum(enum.IntEnum):
    """A proto enum: parses from its name or number, writes its name (or number on request)."""

    @classmethod
    def parse(cls, value: Any) -> ProtoEnum:
        """Return the member for ``value``: a member, a name, a number, or a number as a string."""
        if isinstance(value, cls):
            return value
        if isinstance(value, str):
            if value in cls.__members__:
                return cls.__members__[value]
            if re.fullmatch(r"-?\d+", value.strip()):
                value = int(value)
        if isinstance(value, int) and not isinstance(value, bool):
            try:
                return cls(value)
            except ValueError:
                pass  # an unknown number: the error below names the valid values
        names = ", ".join(cls.__members__)
        raise ValueError(f"{value!r} is not a valid {cls.__name__}; expected one of {names}")

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source_type: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        def serialize(value: ProtoEnum, info: SerializationInfo) -> Any:
            if info.mode == "json":
                return int(value) if _want_int_enums(info) else value.name
            return value

        return core_schema.no_info_plain_validator_function(
            cls.parse,
            serialization=core_schema.plain_serializer_function_ser_schema(
                serialize, info_arg=True
            ),
        )


def _parse_integer(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError("expected an integer, got a boolean")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
        return int(value)
    raise ValueError(f"expected an integer, got {value!r}")


def _in_range(value: int, bits: int) -> int:
    # Google's JSON parser refuses what does not fit; so must we, before a database does.
    low, high = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    if not low <= value <= high:
        raise ValueError(f"{value} is out of range for an int{bits} ({low} to {high})")
    return value


def _parse_int32(value: Any) -> int:
    return _in_range(_parse_integer(value), 32)


def _parse_int64(value: Any) -> int:
    return _in_range(_parse_integer(value), 64)


def _parse_double(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError("expected a number, got a boolean")
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        special = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
        if value in special:
            return special[value]
        try:
            return float(value)
        except ValueError:
            pass  # not a number: the error below says what was expected
    raise ValueError(f"expected a number, got {value!r}")


def _write_double(value: float) -> float | str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


_DURATION = re.compile(r"^\s*(-?\d+(?:\.\d{0,9})?)s\s*$")


def parse_duration(value: Any) -> timedelta:
    """Parse a proto3 JSON Duration such as ``"3600s"`` or ``"12.5s"``."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match:
            return timedelta(seconds=float(match.group(1)))
    raise ValueError(f"expected a duration such as '3600s' or '12.5s', got {value!r}")


def format_duration(value: timedelta) -> str:
    """Write a Duration the way Google does: seconds with 0, 3, 6 or 9 fractional digits."""
    micros = value.days * 86_400_000_000 + value.seconds * 1_000_000 + value.microseconds
    sign = "-" if micros < 0 else ""
    seconds, fraction = divmod(abs(micros), 1_000_000)
    if fraction == 0:
        return f"{sign}{seconds}s"
    if fraction % 1000 == 0:
        return f"{sign}{seconds}.{fraction // 1000:03d}s"
    return f"{sign}{seconds}.{fraction:06d}s"


_TIMESTAMP = re.compile(
    r"^(\d{4}-\d{2}-\d{2})[Tt](\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})$"
)


def parse_timestamp(value: Any) -> datetime:
    """Parse an RFC 3339 timestamp (0 to 9 fractional digits, ``Z`` or an offset) to UTC."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str) and (match := _TIMESTAMP.match(value.strip())):
        day, clock, fraction, zone = match.groups()
        micro = (fraction or "").ljust(6, "0")[:6]
        zone = "+00:00" if zone in ("Z", "z") else zone
        parsed = datetime.fromisoformat(f"{day}T{clock}.{micro}{zone}")
    else:
        raise ValueError(f"expected an RFC 3339 timestamp string, got {value!r}")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def format_timestamp(value: datetime) -> str:
    """Write a timestamp in UTC with a ``Z``, with microseconds when there are any."""
    value = value.astimezone(timezone.utc)
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    if value.microsecond:
        text += f".{value.microsecond:06d}"
    return text + "Z"


def _when_json(function: Any) -> PlainSerializer:
    return PlainSerializer(function, when_used="json")


Int64 = Annotated[int, BeforeValidator(_parse_int64), _when_json(str)]
"""A proto int64: reads numbers or decimal strings, writes a JSON string."""

Int32 = Annotated[int, BeforeValidator(_parse_int32)]
"""A proto int32: reads numbers or decimal strings, writes a JSON number."""

Double = Annotated[float, BeforeValidator(_parse_double), _when_json(_write_double)]
"""A proto double: ``"NaN"`` and ``"Infinity"`` are spelled as strings."""

Duration = Annotated[timedelta, BeforeValidator(parse_duration), _when_json(format_duration)]
"""A google.protobuf.Duration, ``"3.5s"`` in JSON."""

Timestamp = Annotated[datetime, BeforeValidator(parse_timestamp), _when_json(format_timestamp)]
"""A google.protobuf.Timestamp, an RFC 3339 string in JSON."""


class VertexModel(BaseModel):
    """Base of every resource: immutable, camelCase in JSON, unknown fields refused."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        extra="forbid",
        frozen=True,
        ser_json_inf_nan="strings",
    )

    def to_json_dict(self, *, enum_int: bool = False) -> dict[str, Any]:
        """This value as Vertex JSON: camelCase, zero values left out, enums as names.

        Args:
            enum_int: write enums as numbers, as Google does for ``$alt=json;enum-encoding=int``.
        """
        return self.model_dump(
            mode="json", by_alias=True, exclude_defaults=True, context={"enum_int": enum_int}
        )
