"""The old backend's database, opened read-only: one REPEATABLE READ READ ONLY transaction, so
every table is read from the same snapshot and the import can never write there."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from typing import Any

import psycopg
from psycopg.rows import dict_row


class LegacySource:
    def __init__(self, url: str) -> None:
        self.connection = psycopg.connect(url, row_factory=dict_row)
        self.connection.read_only = True
        self.connection.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        self._names = itertools.count(1)

    def close(self) -> None:
        self.connection.rollback()
        self.connection.close()

    def __enter__(self) -> LegacySource:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        with self.connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    def count(self, table: str) -> int:
        rows = self.all(f"SELECT count(*) AS n FROM {table}")  # noqa: S608 (fixed names)
        return int(rows[0]["n"])

    def has_table(self, table: str) -> bool:
        return bool(self.all("SELECT to_regclass(%s) IS NOT NULL AS ok", (table,))[0]["ok"])

    def batches(
        self, sql: str, size: int, params: Sequence[Any] = ()
    ) -> Iterator[list[dict[str, Any]]]:
        """Stream ``sql`` through a server-side cursor, ``size`` rows at a time."""
        with self.connection.cursor(name=f"legacy_{next(self._names)}") as cursor:
            cursor.itersize = size
            cursor.execute(sql, params)
            while rows := cursor.fetchmany(size):
                yield rows
