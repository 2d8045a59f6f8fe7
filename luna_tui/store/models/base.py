"""The base of every model: declared once, bound to the vault's database at unlock.

`database` is a proxy so that importing the models opens nothing; `bind_database`
points it at the unlocked connection and `unbind_database` at nothing again (lock).
"""

from __future__ import annotations

from peewee import DatabaseProxy, Model

database = DatabaseProxy()


class BaseModel(Model):
    class Meta:
        database = database
        legacy_table_names = False


def bind_database(real_database: object) -> None:
    database.initialize(real_database)


def unbind_database() -> None:
    database.initialize(None)
