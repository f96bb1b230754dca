"""Bulk writes of many model instances in as few statements as possible (the period close).

- `rows_update(objs, fields)`: Django's `QuerySet.bulk_update` builds a CASE expression per field
  with a branch per row (seconds of Python per thousand rows); on PostgreSQL this sends one
  ``UPDATE ... FROM unnest(<one array per column>)``.
- `rows_insert(objs)`: ``COPY ... FROM STDIN`` on PostgreSQL (no primary keys come back).

Both bind values on the server (psycopg's own cursor, not Django's client-side one) and fall back
to `bulk_update` / `bulk_create` on other databases. Model `save()` is not called, as with the
bulk methods; `auto_now` fields are filled in as `bulk_create` does.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connections, router


def _server_cursor(connection):
    import psycopg

    connection.ensure_connection()
    return psycopg.Cursor(connection.connection)


def rows_update(objs: Sequence, fields: Sequence[str]) -> int:
    """Save `fields` of `objs` (instances of one model, with primary keys). Returns rows updated.
    On PostgreSQL one statement whatever the number of rows: a column of values per field,
    ``UPDATE t SET f = v.f FROM unnest(%s::type[], ...) AS v(pk, f, ...) WHERE t.pk = v.pk``."""
    if not objs:
        return 0
    model = type(objs[0])
    using = router.db_for_write(model)
    connection = connections[using]
    if connection.vendor != "postgresql":
        return model._default_manager.using(using).bulk_update(objs, fields, batch_size=500)
    meta = model._meta
    pk = meta.pk
    concrete = [pk] + [meta.get_field(name) for name in fields]
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    names = ", ".join(quote(field.column) for field in concrete)
    arrays = ", ".join(f"%s::{field.db_type(connection)}[]" for field in concrete)
    sets = ", ".join(f"{quote(field.column)} = v.{quote(field.column)}" for field in concrete[1:])
    columns = [[field.get_db_prep_save(getattr(obj, field.attname), connection) for obj in objs]
               for field in concrete]
    with _server_cursor(connection) as cursor:
        cursor.execute(f"UPDATE {table} SET {sets} FROM unnest({arrays}) AS v({names}) "
                       f"WHERE {table}.{quote(pk.column)} = v.{quote(pk.column)}", columns)
        return cursor.rowcount


def rows_insert(objs: Sequence) -> None:
    """Insert `objs` (one model, no primary keys set)."""
    if not objs:
        return
    model = type(objs[0])
    using = router.db_for_write(model)
    connection = connections[using]
    if connection.vendor != "postgresql":
        model._default_manager.using(using).bulk_create(objs, batch_size=500)
        return
    meta = model._meta
    fields = [field for field in meta.concrete_fields if not field.primary_key]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    with _server_cursor(connection) as cursor:
        with cursor.copy(f"COPY {quote(meta.db_table)} ({columns}) FROM STDIN") as copy:
            for obj in objs:
                copy.write_row([field.get_db_prep_save(field.pre_save(obj, True), connection) for field in fields])
