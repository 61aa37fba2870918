"""Plain SQL for the hottest writes: the audit append and the SOP runtime's transitions.

Every action of the system appends to the audit chain, and a task completion is the most
frequent action (issue #3: 1,000 completions/s). On that path Django's query building and
its cursor wrapper (statement conversion, logging hooks, error translation) cost more than
SQLite takes to run the statements. These helpers run statements built once per backend,
in the driver's own parameter style, on the DB-API cursor, with values prepared exactly as
the model fields prepare them.

They stay observable and keep Django's error types:

- while Django logs queries (``DEBUG``, ``CaptureQueriesContext``, ``assertNumQueries``) or
  an ``execute_wrapper`` is installed, statements go through Django's cursor wrapper, so
  tests count them and tools see them;
- driver errors are translated by the connection's ``wrap_database_errors`` (an
  ``IntegrityError`` is Django's), and a broken transaction is refused as Django would.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Sequence
from functools import cache
from typing import Any, NamedTuple

from django.apps import apps
from django.db import connection
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Field, Model

#: Prepares one Python value for the driver: ``prep(value, db)``.
Prep = Callable[[Any, BaseDatabaseWrapper], Any]

_INTEGERS = frozenset(
    {
        "AutoField",
        "BigAutoField",
        "SmallAutoField",
        "IntegerField",
        "BigIntegerField",
        "SmallIntegerField",
        "PositiveIntegerField",
        "PositiveBigIntegerField",
        "PositiveSmallIntegerField",
    }
)
_TEXTS = frozenset({"CharField", "TextField", "SlugField"})


class Statement(NamedTuple):
    """One statement in two parameter styles."""

    #: ``%s`` placeholders: what Django's cursor wrapper takes (and logs).
    wrapped: str
    #: The driver's own style (qmark for sqlite3, format for psycopg).
    native: str


def statement(sql: str, vendor: str) -> Statement:
    """``sql`` written with ``%s`` placeholders (and no literal ``%``), in both styles."""
    return Statement(sql, sql.replace("%s", "?") if vendor == "sqlite" else sql)


def _run(db: BaseDatabaseWrapper, stmt: Statement, params: Sequence[Any], fetch: bool) -> Any:
    if db.queries_logged or db.execute_wrappers:
        with db.cursor() as wrapped:
            wrapped.execute(stmt.wrapped, params)
            return wrapped.fetchone() if fetch else wrapped.rowcount
    db.close_if_health_check_failed()
    if db.connection is None:
        db.ensure_connection()
    db.validate_no_broken_transaction()
    with db.wrap_database_errors:
        # sqlite3's own cursor takes qmark SQL as is (the backend's cursor class would
        # rewrite every statement with a regular expression); other backends' create_cursor
        # is the driver's cursor with the backend's set-up (psycopg: time zone loader).
        cursor = db.connection.cursor() if db.vendor == "sqlite" else db.create_cursor()
        try:
            cursor.execute(stmt.native, params)
            return cursor.fetchone() if fetch else cursor.rowcount
        finally:
            cursor.close()


def execute(db: BaseDatabaseWrapper, stmt: Statement, params: Sequence[Any]) -> int:
    """Run ``stmt``; returns the number of rows it changed."""
    return int(_run(db, stmt, params, False))


def fetchone(db: BaseDatabaseWrapper, stmt: Statement, params: Sequence[Any]) -> Any:
    """Run ``stmt``; returns its first row (None when there is none)."""
    return _run(db, stmt, params, True)


def preparer(field: Field[Any, Any], vendor: str) -> Prep:
    """``field.get_db_prep_save`` with shortcuts for the common values of the hot path.

    A shortcut applies only to a value of the exact type it was checked for and returns what
    ``get_db_prep_save`` returns for it (``test_runtime_performance`` compares them); any
    other value takes the field's own preparation. On PostgreSQL only text is shortcut
    (integers are wrapped for psycopg's binding there).
    """
    prep = field.get_db_prep_save
    kind = field.get_internal_type()
    target = field.target_field.get_internal_type() if field.is_relation else kind
    if kind in _TEXTS:

        def text(value: Any, db: BaseDatabaseWrapper) -> Any:
            return value if type(value) is str else prep(value, db)

        return text
    if vendor != "sqlite":
        return prep
    if target in _INTEGERS:

        def integer(value: Any, db: BaseDatabaseWrapper) -> Any:
            return value if value is None or type(value) is int else prep(value, db)

        return integer
    if kind == "BooleanField":

        def boolean(value: Any, db: BaseDatabaseWrapper) -> Any:
            return value if value is None or type(value) is bool else prep(value, db)

        return boolean
    if kind == "DateTimeField":

        def moment(value: Any, db: BaseDatabaseWrapper) -> Any:
            if type(value) is dt.datetime and value.tzinfo is not None:
                if value.tzinfo is dt.UTC and db.timezone is dt.UTC:
                    # What the backend does (make naive in the connection's zone, then
                    # str), for the usual case of a UTC time and a UTC connection.
                    return str(value.replace(tzinfo=None))
                return db.ops.adapt_datetimefield_value(value)
            return prep(value, db)

        return moment
    if target == "UUIDField":

        def key(value: Any, db: BaseDatabaseWrapper) -> Any:
            if value is None:
                return None
            return value.hex if type(value) is uuid.UUID else prep(value, db)

        return key
    return prep


@cache
def _attnames(label: str) -> tuple[str, ...]:
    return tuple(f.attname for f in apps.get_model(label)._meta.concrete_fields)


def build(model: type[Model], values: dict[str, Any]) -> Any:
    """An instance of ``model`` from attribute values (missing: None), built positionally.

    Cheaper than keyword construction; for rows written by :func:`insert` (the caller marks
    the instance saved).
    """
    return model(*[values.get(name) for name in _attnames(model._meta.label)])


class _Factory(NamedTuple):
    """A callable default (``default=dict``): called for each row."""

    make: Callable[[], Any]


class InsertPlan(NamedTuple):
    """The INSERT of one row of a model (every concrete, non-generated, non-pk column)."""

    stmt: Statement
    attnames: tuple[str, ...]
    #: (attname, prep, default) per column; a constant default is already prepared.
    columns: tuple[tuple[str, Prep, Any], ...]

    def params(self, values: dict[str, Any], db: BaseDatabaseWrapper) -> list[Any]:
        """The prepared parameters of a row given by attname (missing ones: defaults)."""
        out = []
        for name, prep, default in self.columns:
            if name in values:
                out.append(prep(values[name], db))
            elif type(default) is _Factory:
                out.append(prep(default.make(), db))
            else:
                out.append(default)
        return out


@cache
def insert_plan(label: str, vendor: str, returning: bool) -> InsertPlan:
    """The single-row INSERT of model ``label`` (``app.Model``), with ``RETURNING`` the pk."""
    model: type[Model] = apps.get_model(label)
    quote = connection.ops.quote_name
    fields = [f for f in model._meta.concrete_fields if not f.generated and not f.primary_key]
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)}"  # noqa: S608 (names from _meta)
        f" ({', '.join(quote(f.column) for f in fields)})"
        f" VALUES ({', '.join(['%s'] * len(fields))})"
    )
    if returning:
        sql += f" RETURNING {quote(model._meta.pk.column)}"
    columns = []
    for f in fields:
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            # pre_save would set these; the plain INSERT does not run it.
            raise ValueError(f"{label}.{f.name}: auto_now fields are not supported here")
        prep = preparer(f, vendor)
        if f.has_default() and callable(f.default):
            default: Any = _Factory(f.default)
        else:
            # Prepared once: preparation depends on the backend only (``connection`` is
            # this thread's connection of the same backend).
            default = prep(f.get_default(), connection)
        columns.append((f.attname, prep, default))
    return InsertPlan(statement(sql, vendor), tuple(f.attname for f in fields), tuple(columns))


def insert(db: BaseDatabaseWrapper, label: str, values: dict[str, Any]) -> Any:
    """INSERT one row of model ``label`` given by attname; returns the new primary key."""
    returning = db.features.can_return_columns_from_insert
    plan = insert_plan(label, db.vendor, returning)
    params = plan.params(values, db)
    if returning:
        return fetchone(db, plan.stmt, params)[0]
    # Only backends without RETURNING get here (none of the supported ones).
    with db.cursor() as cursor:
        cursor.execute(plan.stmt.wrapped, params)
        return cursor.lastrowid


@cache
def _insert_many_stmt(label: str, vendor: str, rows: int) -> Statement:
    single = insert_plan(label, vendor, False).stmt.wrapped
    head, values = single.split(" VALUES ", 1)
    return statement(f"{head} VALUES {', '.join([values] * rows)}", vendor)


def insert_many(db: BaseDatabaseWrapper, label: str, rows: Sequence[dict[str, Any]]) -> None:
    """INSERT rows of model ``label`` (given by attname) in one statement."""
    if not rows:
        return
    plan = insert_plan(label, db.vendor, False)
    params = [p for values in rows for p in plan.params(values, db)]
    execute(db, _insert_many_stmt(label, db.vendor, len(rows)), params)
