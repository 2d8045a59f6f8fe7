"""Which tables sync, and how each row is named across devices.

Generated from the models' registry, so a table a later migration adds to DATA_MODELS
(or the safety plan's) syncs without a list here to forget. What stays on the device:
derived tables (tags rows and full-text indexes, rebuilt by their own triggers), the
audit's and sync's own state, drafts, and `config` (local settings, the current
patient).

A row's sync key is its `id` text where it has one. Journal entries and records have a
local number as their primary key (`entry_no`, `record_no`, for the full-text index)
beside their `id`: the number stays local. A table whose only key is a local number
(messages) names its rows `<device id>/<number>` as the device that made them knew
them; `sync_row_map` gives the number each has on this device.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from luna_tui.store.models.registry import DATA_MODELS, SAFETY_PLAN_MODELS
from luna_tui.store.models.vault_state import Config

LOCAL_MODELS = (Config,)

# Columns holding another table's local number: sent as that row's sync key.
NUMBER_REFERENCES = {
    ("semantic_pins", "message_id"): "messages",
    ("conversation_summaries", "start_message_id"): "messages",
    ("conversation_summaries", "end_message_id"): "messages",
}

# Tables whose rows are only ever added (a dose taken, a reading, a message): two
# devices' rows are a union. They merge by the same rules as the rest (their rows have
# distinct keys, so nothing is lost); the list is for status and the README.
APPEND_ONLY = ("medication_doses", "medication_events", "vitals", "messages")


@dataclass(frozen=True)
class SyncTable:
    name: str
    key: str  # the column naming a row across devices
    numbered: bool  # the key is a local number (see the module's docstring)
    columns: tuple[str, ...]  # what a change carries (never a local number)


def synced_table_names() -> list[str]:
    return [model._meta.table_name for model in (*DATA_MODELS, *SAFETY_PLAN_MODELS)
            if model not in LOCAL_MODELS]


def synced_tables(connection: Any) -> list[SyncTable]:
    """Each synced table as the database has it now (columns read from the schema)."""
    return [describe(connection, name) for name in synced_table_names()]


def describe(connection: Any, name: str) -> SyncTable:
    info = connection.execute(f"PRAGMA table_info({name})").fetchall()
    # cid, name, type, notnull, default, pk
    columns = [row[1] for row in info]
    primary = [row[1] for row in info if row[5]]
    integer_pk = len(primary) == 1 and str(
        next(row[2] for row in info if row[1] == primary[0])).upper() == "INTEGER"
    if "id" in columns and not (integer_pk and primary[0] == "id"):
        key, numbered = "id", False
        carried = [c for c in columns if not (integer_pk and c == primary[0])]
    elif integer_pk:
        key, numbered = primary[0], True
        carried = [c for c in columns if c != primary[0]]
    else:
        key, numbered = primary[0], False
        carried = columns
    return SyncTable(name, key, numbered, tuple(carried))
