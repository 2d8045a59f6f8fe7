"""The records place: the record types in use, and the records shown — a page of the
list, or the best matches of a search."""

from __future__ import annotations

from dataclasses import dataclass

from luna_tui.services.base import DomainService, on_db_thread
from luna_tui.services.records import RecordHit, Records, RecordView


@dataclass(frozen=True)
class RecordsView:
    types_in_use: list[str]
    record_type: str | None  # the filter asked for, if any record has that type
    records: list[RecordView]  # when listing
    hits: list[RecordHit]  # when searching


class RecordsPlace(DomainService):
    @on_db_thread
    def shown(self, patient_id: str, *, words: str, record_type: str | None,
              tag: str | None, list_limit: int, search_limit: int) -> RecordsView:
        records = Records(self.session)
        kinds = records.types_in_use(patient_id)
        kind = record_type if record_type in kinds else None
        if words:
            hits = records.search(patient_id, words, record_type=kind, tag=tag,
                                  limit=search_limit, prefix_last=True)
            return RecordsView(kinds, kind, [], hits)
        listed = records.list(patient_id, record_type=kind, tag=tag, limit=list_limit)
        return RecordsView(kinds, kind, listed, [])
