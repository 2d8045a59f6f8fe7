"""The schema: a vault built through the migrations matches `schema/*.sql` and the
Peewee models. Run with LUNA_UPDATE_SCHEMA=1 to rewrite `schema/` after a migration."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from peewee import AutoField, CompositeKey, ForeignKeyField, IntegerField
from playhouse.schema_diff import diff_models

from luna_tui.store.schema_dump import schema_sql

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schema"
DATABASES = [("main", "main.sql", "luna.db"), ("audit", "audit.sql", "audit/YYYY-MM.db"),
             ("stats", "stats.sql", "stats.db")]


def all_models():
    from luna_tui.store.models import registry

    return registry.ALL_MODELS


@pytest.mark.parametrize(("schema", "file_name", "db_file"), DATABASES)
def test_the_migrations_build_the_canonical_schema(session, schema, file_name, db_file):
    from luna_tui.store.models.base import database

    built = session.run(schema_sql, database, schema, db_file)
    path = SCHEMA_DIR / file_name
    if os.environ.get("LUNA_UPDATE_SCHEMA"):
        path.write_text(built)
    assert path.read_text() == built, (
        f"{path} is out of date; run LUNA_UPDATE_SCHEMA=1 pytest tests/test_schema.py"
    )


def test_the_models_match_the_schema(session):
    from luna_tui.store.models.base import database

    def compare():
        diff = diff_models(database, all_models())
        assert not diff, f"models and schema differ:\n{diff}"
        for model in all_models():
            meta = model._meta
            if getattr(meta, "extension_module", None):
                continue  # virtual tables
            columns = {c.name: c for c in database.get_columns(meta.table_name, meta.schema)}
            composite = meta.primary_key.field_names if isinstance(
                meta.primary_key, CompositeKey) else ()
            for field in meta.sorted_fields:
                column = columns[field.column_name]
                where = f"{meta.table_name}.{field.column_name}"
                assert column.null == field.null, f"{where}: NULL differs"
                in_key = field.primary_key or field.name in composite
                assert column.primary_key == in_key, f"{where}: primary key differs"
                if isinstance(field, AutoField | IntegerField | ForeignKeyField):
                    assert column.data_type.upper() == "INTEGER" or isinstance(
                        field, ForeignKeyField
                    ), f"{where}: {column.data_type}"

    session.run(compare)
