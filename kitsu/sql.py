"""SQL the ORM compiles once per process, with each request's values bound into it.

Building and compiling a queryset costs more CPU than PostgreSQL spends answering a catalog
page (issue 14's profile). ``compiled`` builds the queryset of a *shape* once, with a
placeholder ("slot") value wherever a request supplies one, compiles it, and records which
statement parameter each slot became. A request then binds its own values into those
positions and runs the statement: no queryset, no compiler.

The mapping is checked, never assumed: the statement is compiled twice, with two disjoint
sets of placeholder values, and must come out as the same SQL; every parameter that differs
between the two must be the same slot's placeholder in both (so it went through the ORM's
value preparation unchanged), every parameter that does not differ must be a constant, and
every slot must appear (it may appear more than once: one expression used twice).
When that does not hold (a lookup that transforms its value, a backend that adapts it, as
SQLite does with UUIDs and datetimes) ``compiled`` returns None and the caller runs the
queryset itself, so a shape the mechanism cannot represent is slower, never wrong. It is used
on PostgreSQL only; the embedded SQLite mode runs the ORM.
"""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Lookup, QuerySet
from django.db.models.sql.compiler import SQLCompiler


class Slots:
    """Hands out placeholder values while a queryset is built (see the module docstring).

    ``series`` picks one of two disjoint sets of placeholder values: a statement is compiled
    with each, and a parameter is a slot only where the two compilations differ."""

    def __init__(self, series: int = 0) -> None:
        self.series = series
        self.names: dict[tuple[type, Any], str] = {}

    @staticmethod
    def kind(value: Any) -> type | None:
        """The placeholder type ``value`` belongs to (the ORM may pass a subclass: psycopg's
        ``Int2`` for a smallint column), or None."""
        if isinstance(value, bool):
            return None
        for kind in (int, str, Decimal, datetime, date, uuid.UUID):
            if isinstance(value, kind):
                return kind
        return None

    def __call__(self, name: str, like: Any) -> Any:
        """A placeholder for the value ``name``, of the type of ``like`` (a sample value)."""
        n, series = len(self.names), self.series
        value: Any
        kind = self.kind(like)
        if kind is int:
            value = 20_011 + 1000 * series + n  # inside a smallint: range checks keep it
        elif kind is str:
            value = f"\x00slot{series}.{n}\x00"
        elif kind is Decimal:
            value = Decimal(-9000 + 1000 * series - n).scaleb(-2)  # 4 digits, 2 places
        elif kind is datetime:
            value = datetime(1901 + series, 1, 1, tzinfo=UTC) + timedelta(seconds=n)
        elif kind is date:
            value = date(1901 + series, 1, 1) + timedelta(days=n)
        elif kind is uuid.UUID:
            value = uuid.UUID(int=(series << 64) + n + 1)
        else:
            raise TypeError(f"no placeholder for {type(like).__name__}")
        self.names[(kind, value)] = name
        return value

    def name_of(self, param: Any) -> str | None:
        kind = self.kind(param)
        if kind is None:
            return None
        return self.names.get((kind, int(param) if kind is int else param))


@dataclass(frozen=True)
class Compiled:
    sql: str
    params: tuple[Any, ...]
    slots: tuple[tuple[int, str], ...]  # (parameter index, slot name)
    columns: tuple[str, ...]

    def bind(self, values: Mapping[str, Any]) -> list[Any]:
        params = list(self.params)
        for index, name in self.slots:
            template, value = params[index], values[name]
            # keep the ORM's wrapper type (psycopg's Int2 for a smallint column)
            params[index] = type(template)(value) if type(template) is not type(value) else value
        return params

    def fetch(
        self,
        values: Mapping[str, Any],
        suffix: str = "",
        extra: Sequence[Any] = (),
        prefix: str = "",
    ) -> list[Any]:
        """Rows of the statement with ``values`` bound; ``prefix``/``suffix`` wrap its SQL and
        ``extra`` are the parameters of ``suffix``."""
        with connection.cursor() as cursor:
            cursor.execute(prefix + self.sql + suffix, (*self.bind(values), *extra))
            return cursor.fetchall()


# Shapes are partly client-chosen (``genre=a,b,c,...`` has one per count and id/slug mix): the
# cache keeps the most recently used ones, so no sequence of requests can grow it without bound.
MAX_STATEMENTS = 512
_CACHE: OrderedDict[Hashable, Compiled | None] = OrderedDict()
_LOCK = threading.Lock()


def compiled(
    key: Hashable, build: Callable[[Slots], QuerySet[Any]], columns: Sequence[str] = ()
) -> Compiled | None:
    """The statement of ``build(slots)`` for this ``key`` (one shape), compiled on first use;
    None when it cannot be bound safely (the caller runs its queryset instead)."""
    full_key = (connection.alias, connection.vendor, key)
    with _LOCK:
        if full_key in _CACHE:
            _CACHE.move_to_end(full_key)
            return _CACHE[full_key]
    statement = _compile(build, tuple(columns))  # outside the lock: it builds querysets
    with _LOCK:
        _CACHE[full_key] = statement
        while len(_CACHE) > MAX_STATEMENTS:
            _CACHE.popitem(last=False)
    return statement


def run(
    key: Hashable, build: Callable[[Any], QuerySet[Any]], values: Mapping[str, Any]
) -> list[Any]:
    """Rows of ``build`` with ``values``: its compiled statement where it has one (and
    ``CATALOG_COMPILED_SQL`` is on), else the queryset built with the values themselves."""
    statement = compiled(key, build) if settings.CATALOG_COMPILED_SQL else None
    if statement is None:
        return list(build(lambda name, like: values[name]))
    return statement.fetch(values)


def _compile(build: Callable[[Slots], QuerySet[Any]], columns: tuple[str, ...]) -> Compiled | None:
    if connection.vendor != "postgresql":
        return None
    compiled_twice = []
    for series in (0, 1):
        slots = Slots(series)
        try:
            sql, params = build(slots).query.sql_with_params()
        except (TypeError, EmptyResultSet):  # no placeholder for a type; a query of nothing
            return None
        compiled_twice.append((sql, tuple(params), slots))
    (sql, params, slots), (other_sql, other_params, other_slots) = compiled_twice
    if sql != other_sql or len(params) != len(other_params):
        return None
    found: list[tuple[int, str]] = []
    for index, (param, other) in enumerate(zip(params, other_params, strict=True)):
        name, other_name = slots.name_of(param), other_slots.name_of(other)
        if name != other_name:
            return None  # one series' placeholder equals a constant of the query
        if name is None and param != other:
            return None  # a parameter moved with the placeholders: a transformed slot
        if name is not None:
            found.append((index, name))
    if {name for _, name in found} != set(slots.names.values()):
        return None  # a slot vanished (a condition the ORM dropped or folded)
    return Compiled(sql, params, tuple(found), columns)


class Like(Lookup):
    """``lhs LIKE rhs`` with the pattern given as is: ``contains``/``startswith`` build their
    pattern inside the ORM (so a slot would be transformed); this one takes it bindable. Use
    ``like_contains``/``like_prefix`` for the escaped patterns. Same SQL, same index use
    (pg_trgm's GIN operator class serves LIKE)."""

    lookup_name = "like"
    prepare_rhs = False

    def as_sql(self, compiler: SQLCompiler, connection: Any) -> tuple[str, tuple[Any, ...]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} LIKE {rhs}", (*lhs_params, *rhs_params)


def like_contains(text: str) -> str:
    return "%" + connection.ops.prep_for_like_query(text) + "%"


def like_prefix(text: str) -> str:
    return connection.ops.prep_for_like_query(text) + "%"
