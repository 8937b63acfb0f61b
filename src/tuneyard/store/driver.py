"""Core statements run straight on the database driver: the engine's few statements per trial.

SQLAlchemy's execution of a cached statement costs about a tenth of a millisecond on this
project's machines, several times what SQLite takes to run it, and a reconcile pass runs about
seven of them per trial. A :class:`DriverStatement` is compiled once per dialect (and set of
columns) with SQLAlchemy's own compiler, and then runs on the DBAPI cursor of the SQLAlchemy
connection it is given, in that connection's transaction. Values go through the same type
processors SQLAlchemy would apply (the columns' ``bind_processor`` and ``result_processor``), so
what is stored and read back is exactly what a plain ``connection.execute`` stores and reads.
Driver errors are raised as SQLAlchemy's ``DBAPIError`` subclasses, as SQLAlchemy raises them,
so :func:`tuneyard.store.session.translate_errors` translates them the same way.

Only statements without SQLAlchemy's execution-time extras belong here: no ``IN`` lists expanded
at execution, no defaults computed in Python, no ``RETURNING``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any, cast

from sqlalchemy import Connection, exc
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

Processor = Callable[[Any], Any] | None


class _Compiled:
    """A statement compiled for one dialect and one set of value columns."""

    def __init__(self, statement: ClauseElement, dialect: Dialect, keys: Sequence[str]) -> None:
        compiled = cast(SQLCompiler, statement.compile(dialect=dialect, column_keys=list(keys)))
        self.sql = compiled.string
        self.positional = bool(dialect.positional)
        names = list(compiled.positiontup or ()) if self.positional else list(compiled.binds)
        self.binds: list[tuple[str, Processor]] = [
            (name, compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect))
            for name in names
        ]
        columns = getattr(statement, "selected_columns", None)
        self.results: list[Processor] = (
            [c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns]
            if columns is not None
            else []
        )
        self.error = dialect.loaded_dbapi.Error

    def parameters(self, values: Mapping[str, Any]) -> Sequence[Any] | dict[str, Any]:
        processed = [
            (name, values[name] if process is None else process(values[name]))
            for name, process in self.binds
        ]
        if self.positional:
            return [value for _, value in processed]
        return dict(processed)

    def row(self, raw: Sequence[Any]) -> tuple[Any, ...]:
        return tuple(
            value if process is None else process(value)
            for value, process in zip(raw, self.results, strict=True)
        )


class DriverStatement:
    """A Core statement that runs on the driver's cursor; thread-safe.

    Bound parameters are given by name, as to ``connection.execute``: those of the ``WHERE``
    clause are named ``b_*``, and for ``INSERT`` and ``UPDATE`` the other keys are the columns
    written (``VALUES`` / ``SET``).

    Example:
        >>> head = DriverStatement(select(JOBS.c.state).where(JOBS.c.id == bindparam("b_id")))
        >>> head.first(connection, {"b_id": 1})  # doctest: +SKIP
        (3,)
    """

    def __init__(self, statement: ClauseElement) -> None:
        self._statement = statement
        columns = getattr(statement, "selected_columns", None)
        #: The names of the columns a ``SELECT`` returns, in order ("" for an expression).
        self.names: tuple[str, ...] = tuple(getattr(c, "name", "") for c in columns or ())
        self._compiled: dict[tuple[str, frozenset[str]], _Compiled] = {}
        self._lock = threading.Lock()

    def _for(self, connection: Connection, values: Mapping[str, Any]) -> _Compiled:
        dialect = connection.dialect
        keys = frozenset(k for k in values if not k.startswith("b_"))
        key = (dialect.name, keys)
        compiled = self._compiled.get(key)
        if compiled is None:
            with self._lock:
                compiled = self._compiled.setdefault(
                    key, _Compiled(self._statement, dialect, sorted(keys))
                )
        return compiled

    def execute(self, connection: Connection, values: Mapping[str, Any]) -> int:
        """Run it once; the number of rows it changed (for ``UPDATE``)."""
        compiled = self._for(connection, values)
        cursor = _cursor(connection)
        try:
            cursor.execute(compiled.sql, compiled.parameters(values))
            return int(cursor.rowcount)
        except compiled.error as error:
            raise _wrapped(compiled, error) from error
        finally:
            cursor.close()

    def execute_many(self, connection: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """Run it once per mapping of ``rows`` (all with the same keys), as one batch."""
        if not rows:
            return
        compiled = self._for(connection, rows[0])
        cursor = _cursor(connection)
        try:
            cursor.executemany(compiled.sql, [compiled.parameters(row) for row in rows])
        except compiled.error as error:
            raise _wrapped(compiled, error) from error
        finally:
            cursor.close()

    def first(self, connection: Connection, values: Mapping[str, Any]) -> tuple[Any, ...] | None:
        """The first row of a ``SELECT``, its values processed as SQLAlchemy would, or None."""
        compiled = self._for(connection, values)
        cursor = _cursor(connection)
        try:
            cursor.execute(compiled.sql, compiled.parameters(values))
            raw = cursor.fetchone()
        except compiled.error as error:
            raise _wrapped(compiled, error) from error
        finally:
            cursor.close()
        return None if raw is None else compiled.row(raw)


def _cursor(connection: Connection) -> Any:
    # The DBAPI connection of the transaction the SQLAlchemy connection is in.
    return connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]


def _wrapped(compiled: _Compiled, error: Exception) -> exc.StatementError:
    return exc.DBAPIError.instance(compiled.sql, None, error, compiled.error)
