"""One shape for every `--json` list: each item names its patient by id and by name.

`luna list --json` always had both; `meds`, `appts`, `vitals`, `records`, `doses` and
`patients` had only `patient_id`, so a script joining two lists had to look names up.
Now every item has `patient_id` and `patient`, right after its own `id`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

PATIENT_KEYS = ("patient_id", "patient")


def with_patient(fields: Mapping[str, Any], patient_id: str, patient_name: str
                 ) -> dict[str, Any]:
    """`fields` with `patient_id` and `patient` (the name) after `id`."""
    row: dict[str, Any] = {}
    if "id" in fields:
        row["id"] = fields["id"]
    row["patient_id"], row["patient"] = patient_id, patient_name
    row.update((key, value) for key, value in fields.items()
               if key not in ("id", *PATIENT_KEYS))
    return row
