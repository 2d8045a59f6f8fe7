"""Writing imported vital readings (from Apple Health or a CSV file): all of one file in
one transaction, with ids derived from what each reading is, so importing the same file
again adds nothing.

One transaction, even for a gigabyte of Apple Health: an XML file is known to be whole
only at its last byte, and a file refused there must leave nothing behind. A
transaction per batch would also be idempotent (a second run completes a first that
was stopped), but it would leave half a file in the vault until then. The cost is a
write-ahead log as large as the readings added (about 0.3 KB each) and other Luna
processes waiting for the vault while the import runs. The transaction gets a 64 MiB
page cache (store/vitals_bulk.py): a million readings took 93 s with it, 145 s without.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from luna_tui.errors import NotFound
from luna_tui.services.base import DomainService
from luna_tui.services.vitals import KINDS
from luna_tui.store.models.patients import Patient
from luna_tui.store.vitals_bulk import bulk_cache, insert_new_readings

BATCH = 2000
# The namespace of imported readings' ids (uuid5): any fixed UUID would do; this one
# is Luna's own, so an id made here never collides with another program's uuid5.
READING_NAMESPACE = uuid.UUID("6f1c2b0e-8a4d-5c3e-9b7a-4c756e612d76")


def reading_id(patient_id: str, *parts: object) -> str:
    """The id of an imported reading: the same patient and the same parts (kind,
    times, value, source) always give the same id."""
    return str(uuid.uuid5(READING_NAMESPACE, "\x1f".join(map(str, (patient_id, *parts)))))


@dataclass(frozen=True)
class NewReading:
    id: str
    kind: str
    value: float
    value2: float | None
    unit: str
    measured_at: str  # local YYYY-MM-DDTHH:MM
    notes: str | None = None


@dataclass
class VitalImportResult:
    """What an import brought in, by kind, and what it left out, by kind and reason."""

    source: str  # "an Apple Health export", "a CSV file"
    added: Counter[str] = field(default_factory=Counter)
    already_here: Counter[str] = field(default_factory=Counter)
    skipped: Counter[tuple[str, str]] = field(default_factory=Counter)  # (kind, why)
    other_types: int = 0  # records of kinds Luna doesn't take (steps, workouts, …)

    def skip(self, kind: str, why: str) -> None:
        self.skipped[(kind, why)] += 1

    def summary(self) -> str:
        """What came in, a line per kind, then what was left out and why."""
        total = sum(self.added.values())
        lines = [f"Imported {total:,} reading{'s' * (total != 1)} from {self.source}"
                 + (":" if total else ".")]
        lines += [f"  {_label(kind)}: {count:,}" for kind, count in sorted(self.added.items())
                  if count]
        already = sum(self.already_here.values())
        if already:
            lines.append(f"{already:,} were already in this vault (or twice in the file).")
        skipped = sum(self.skipped.values())
        if skipped:
            lines.append(f"Skipped {skipped:,}:")
            lines += [f"  {_label(kind)}: {count:,} {why}"
                      for (kind, why), count in sorted(self.skipped.items())]
        if self.other_types:
            lines.append(f"Left out {self.other_types:,} record"
                         f"{'s' * (self.other_types != 1)} of kinds Luna doesn't import "
                         "(steps, energy, workouts, …).")
        return "\n".join(lines)


def _label(kind: str) -> str:
    known = KINDS.get(kind)
    return known.label if known else kind.replace("_", " ")


Produce = Callable[[Callable[[NewReading], None], VitalImportResult], None]


class VitalImporter(DomainService):
    def import_readings(self, patient_id: str, source: str, audit_source: str,
                        produce: Produce) -> VitalImportResult:
        """Run `produce(add, result)` on the DB thread inside one write transaction:
        each reading it adds is written (in batches); anything it raises rolls the
        whole import back."""
        return self.session.run(self._import, patient_id, source, audit_source, produce)

    def _import(self, patient_id: str, source: str, audit_source: str,
                produce: Produce) -> VitalImportResult:
        if not Patient.select().where(Patient.id == patient_id).exists():
            raise NotFound("That patient no longer exists.")
        result = VitalImportResult(source)
        with self.session.writing("import readings") as tx, bulk_cache():
            writer = _Writer(patient_id, self.stamp(), result)
            produce(writer.add, result)
            writer.flush()
            tx.record("vital.import", patient_id, {
                "readings": [None, sum(result.added.values())],
                "source": [None, audit_source]})
        return result


class _Writer:
    """Readings buffered per kind and written a batch at a time; each batch's count of
    new rows tells added from already here."""

    def __init__(self, patient_id: str, stamp: str, result: VitalImportResult) -> None:
        self.patient_id, self.stamp, self.result = patient_id, stamp, result
        self.pending: dict[str, list[tuple[object, ...]]] = {}

    def add(self, reading: NewReading) -> None:
        rows = self.pending.setdefault(reading.kind, [])
        rows.append((reading.id, self.patient_id, reading.kind, reading.value,
                     reading.value2, reading.unit, reading.measured_at, reading.notes,
                     self.stamp, self.stamp))
        if len(rows) >= BATCH:
            self._write(reading.kind)

    def flush(self) -> None:
        for kind in list(self.pending):
            self._write(kind)

    def _write(self, kind: str) -> None:
        rows = self.pending.pop(kind, [])
        added = insert_new_readings(rows)
        self.result.added[kind] += added
        self.result.already_here[kind] += len(rows) - added
