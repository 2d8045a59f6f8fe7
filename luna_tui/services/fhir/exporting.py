"""`luna export --format fhir`: every patient's health data (or one patient's) as a
FHIR R4 `collection` Bundle, attachments inline. Health data, not the journal: a day's
mood and sleep go, the entries' words stay (the JSON and Markdown exports carry them).

Like the other exports (services/exporting.py): plaintext by design, written by the
caller 0600; private journal entries, and their mood and sleep, only when asked for by
name; audited before anything is read, so no data leaves unrecorded.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import IO, Any

from luna_tui.services.base import DomainService, on_db_thread
from luna_tui.services.fhir.writing import bundle
from luna_tui.services.health_data import INCLUDABLE, HealthDataReader, HealthScope


class FhirExporter(DomainService):
    def write(self, out: IO[str], *, patient_id: str | None = None,
              include_private: bool = False) -> dict[str, int]:
        """Write the Bundle to `out`; the resources written, by type."""
        scope = HealthScope(patient_ids=(patient_id,) if patient_id else None,
                            include=frozenset(INCLUDABLE) - {"journal"}, attachments=True,
                            include_private=include_private)
        self._audit(scope)
        data = HealthDataReader(self.session).read(scope)
        document = bundle(data, kind="collection", now=self.session.clock.now())
        json.dump(document, out, ensure_ascii=False, indent=1)
        out.write("\n")
        return resource_counts(document)

    @on_db_thread
    def _audit(self, scope: HealthScope) -> None:
        # A read: allowed for read-only keys, but still on the record.
        with self.session.transaction() as tx:
            tx.record("export.fhir", diff={
                "patients": [None, list(scope.patient_ids) if scope.patient_ids else "all"],
                "include": [None, sorted(scope.include)],
                "private_entries": [None, scope.include_private]})


def resource_counts(document: dict[str, Any]) -> dict[str, int]:
    return dict(Counter(entry["resource"]["resourceType"] for entry in document["entry"]))
