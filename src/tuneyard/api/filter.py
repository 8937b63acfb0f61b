"""The AIP-160 list filter of ``ListHyperparameterTuningJobs``, parsed with a lark grammar.

A filter becomes a predicate over jobs. Fields (snake_case or camelCase):

- ``display_name``: ``=``, ``!=``, ``:`` (``*`` is a wildcard);
- ``state``: ``=``, ``!=`` (``JOB_STATE_SUCCEEDED`` or a number);
- ``labels.KEY``: ``=``, ``!=``, ``:`` (``labels.KEY:*`` means the key exists);
- ``create_time``, ``update_time``, ``start_time``, ``end_time``: ``=``, ``!=``, ``<``, ``<=``,
  ``>``, ``>=`` with RFC 3339 values; a job without that time matches only ``!=``.

Terms combine with ``AND``, ``OR``, ``NOT`` (or ``-``) and parentheses; terms side by side are
ANDed. ``AND`` binds tighter than ``OR``. Anything else is ``InvalidArgument`` naming the column.

Example:
    >>> matches = compile_filter('state="JOB_STATE_SUCCEEDED" AND display_name:"toy-*"')
    >>> matches(job)  # doctest: +SKIP
    True
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from lark import Lark, Token, Transformer, UnexpectedInput, v_args
from lark.exceptions import VisitError

from tuneyard.errors import FieldViolation, InvalidArgument
from tuneyard.model import HyperparameterTuningJob, JobState, parse_timestamp

Predicate = Callable[[HyperparameterTuningJob], bool]

_GRAMMAR = r"""
?start: or_expr
?or_expr: and_expr (_OR and_expr)*
?and_expr: unary (_AND? unary)*
?unary: _NOT unary -> negation
      | "-" unary -> negation
      | "(" or_expr ")"
      | comparison
comparison: field COMPARATOR value
field: NAME ("." NAME)*
?value: STRING | WORD

_OR: "OR"
_AND: "AND"
_NOT: "NOT"
COMPARATOR: "<=" | ">=" | "!=" | "=" | "<" | ">" | ":"
NAME: /[A-Za-z_][A-Za-z0-9_]*/
STRING: /"(?:[^"\\]|\\.)*"/
WORD: /[^\s()"=!<>]+/

%import common.WS
%ignore WS
"""

_PARSER = Lark(_GRAMMAR, parser="lalr", lexer="contextual", maybe_placeholders=False)
_TIME_FIELDS = ("create_time", "update_time", "start_time", "end_time")
_ORDERINGS: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


def _error(text: str, column: int | None, message: str) -> InvalidArgument:
    where = f" at column {column}" if column else ""
    return InvalidArgument([FieldViolation("filter", f"{message}{where} in {text!r}")])


def _glob(pattern: str, value: str) -> bool:
    # Only ``*`` is special; brackets and ``?`` match themselves.
    regex = ".*".join(re.escape(part) for part in pattern.split("*"))
    return re.fullmatch(regex, value, flags=re.DOTALL) is not None


class _Compiler(Transformer[Token, Predicate]):
    """Turns the parse tree into a predicate, checking each field and value."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self._text = text

    def or_expr(self, terms: list[Predicate]) -> Predicate:
        return lambda job: any(term(job) for term in terms)

    def and_expr(self, terms: list[Predicate]) -> Predicate:
        return lambda job: all(term(job) for term in terms)

    @v_args(inline=True)
    def negation(self, term: Predicate) -> Predicate:
        return lambda job: not term(job)

    def field(self, names: list[Token]) -> Token:
        first = names[0]
        return Token("FIELD", ".".join(names), start_pos=first.start_pos, column=first.column)

    @v_args(inline=True)
    def comparison(self, field: Token, comparator: Token, value: Token) -> Predicate:
        op = str(comparator)
        raw = str(value)
        text = re.sub(r"\\(.)", r"\1", raw[1:-1]) if value.type == "STRING" else raw
        head, _, key = str(field).partition(".")
        name = _snake(head)

        def bad(message: str, at: Token = field) -> InvalidArgument:
            return _error(self._text, at.column, message)

        if name == "labels":
            if not key:
                raise bad("labels needs a key: labels.KEY")
            return self._label(key, op, text, bad, comparator)
        if key:
            raise bad(f"unknown field {str(field)!r}")
        if name == "display_name":
            if op not in ("=", "!=", ":"):
                raise bad(f"display_name does not support {op!r}", comparator)
            if op == ":":
                return lambda job: _glob(text, job.display_name)
            return lambda job: (job.display_name == text) == (op == "=")
        if name == "state":
            if op not in ("=", "!="):
                raise bad(f"state supports = and != only, not {op!r}", comparator)
            try:
                state = JobState.parse(int(text) if text.isdigit() else text)
            except (ValueError, KeyError):
                raise bad(f"{text!r} is not a JobState", value) from None
            return lambda job: (job.state == state) == (op == "=")
        if name in _TIME_FIELDS:
            if op == ":":
                raise bad(f"{name} does not support ':'", comparator)
            try:
                moment = parse_timestamp(text)
            except ValueError:
                raise bad(f"{text!r} is not an RFC 3339 timestamp", value) from None
            compare = _ORDERINGS[op]

            def on_time(job: HyperparameterTuningJob) -> bool:
                got: datetime | None = getattr(job, name)
                return op == "!=" if got is None else compare(got, moment)

            return on_time
        raise bad(
            f"unknown field {str(field)!r}; filter on display_name, state, labels.KEY, "
            + ", ".join(_TIME_FIELDS)
        )

    @staticmethod
    def _label(
        key: str,
        op: str,
        text: str,
        bad: Callable[[str, Token], InvalidArgument],
        comparator: Token,
    ) -> Predicate:
        if op == ":":
            return lambda job: key in job.labels and _glob(text, job.labels[key])
        if op == "=":
            return lambda job: job.labels.get(key) == text
        if op == "!=":
            return lambda job: job.labels.get(key) != text
        raise bad(f"labels support =, != and ':' only, not {op!r}", comparator)


def compile_filter(text: str) -> Predicate:
    """The predicate an AIP-160 ``filter`` stands for; an empty filter matches every job.

    Raises:
        InvalidArgument: the filter does not parse, or names an unknown field, an operator the
            field does not support, or a value of the wrong kind; the message gives the column.
    """
    if not text.strip():
        return lambda job: True
    try:
        tree = _PARSER.parse(text)
    except UnexpectedInput as error:
        token = getattr(error, "token", None)
        if isinstance(token, Token) and token.type == "$END":
            raise _error(text, None, "unexpected end of filter") from None
        got = str(token) if isinstance(token, Token) else text[error.pos_in_stream or 0]
        raise _error(
            text, error.column if error.column > 0 else None, f"unexpected {got!r}"
        ) from None
    try:
        predicate: Predicate = _Compiler(text).transform(tree)
    except VisitError as error:
        if isinstance(error.orig_exc, InvalidArgument):
            raise error.orig_exc from None
        raise
    return predicate


__all__ = ["Predicate", "compile_filter"]
