"""A field shared by the models: many values stored as a JSON array in TEXT."""

from __future__ import annotations

import json

from peewee import TextField


class JsonListField(TextField):
    """A many-valued field (tags, emotions, a dose schedule) kept as a JSON array, so
    the full-text index and SQLite's json_each can read it."""

    def db_value(self, value):  # noqa: ANN001, ANN201 - Peewee's signature
        if value is None:
            return None
        return json.dumps(list(value), ensure_ascii=False)

    def python_value(self, value):  # noqa: ANN001, ANN201
        if value is None:
            return []
        return json.loads(value)
