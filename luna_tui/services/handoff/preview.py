"""What a hand-off will include, before anything is written: for whom, which days, how
many of each kind, the records chosen, the files. The shell prints its lines and asks;
the app's form shows them and updates them as the choices change. Both read it from
the same contents the packet writes, so the preview is what the files hold.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from luna_tui.services.base import DomainService, on_db_thread
from luna_tui.services.handoff.choices import HANDOFF_KINDS, INSIGHTS, KIND_LABELS, HandoffChoice
from luna_tui.services.handoff.contents import HandoffContents
from luna_tui.services.handoff.contents_reader import HandoffReader
from luna_tui.services.handoff.file_names import archive_name, plain_names
from luna_tui.services.records import Records

NOT_ENCRYPTED = ("These files are NOT encrypted: anyone who can read that folder can read "
                 "them. Hand them over, then delete them.")
ARCHIVE_TOOLS = ("The archive is AES-256 encrypted. It opens in 7-Zip, Keka, PeaZip and "
                 "similar tools, NOT in Windows Explorer or macOS Archive Utility. Its "
                 "passphrase is shown once: give it to the clinician by another way than "
                 "the file.")
PRIVATE_NEVER = "Private journal entries are never included, nor their mood or sleep."


@dataclass(frozen=True)
class ChosenRecord:
    id: str
    title: str
    event_date: str | None
    type_label: str
    attachments: int  # files going with it (0 unless attachments are included)


@dataclass(frozen=True)
class HandoffPreview:
    patient_name: str
    start: dt.date
    end: dt.date
    counts: tuple[tuple[str, int], ...]  # (kind, how many), the kinds included, in order
    records: tuple[ChosenRecord, ...]
    files: tuple[str, ...]
    archive: bool

    def count(self, kind: str) -> int | None:
        """How many of `kind` go; None when it is not included."""
        return dict(self.counts).get(kind)

    def count_line(self, kind: str) -> str:
        """`Vital readings: 8`; empty when `kind` is not included."""
        count = self.count(kind)
        return "" if count is None else f"{KIND_LABELS[kind]}: {count}"

    def lines(self) -> list[str]:
        """The preview as the shell prints it and the form shows it."""
        lines = [f"Hand-off for {self.patient_name}, from {self.start.isoformat()} to "
                 f"{self.end.isoformat()}:"]
        lines += [f"  {self.count_line(kind)}" for kind, _ in self.counts]
        for record in self.records:
            files = (f", {record.attachments} attached file"
                     f"{'' if record.attachments == 1 else 's'}" if record.attachments else "")
            lines.append(f"    record: {record.title} ({record.type_label}, "
                         f"{record.event_date or 'no date'}{files})")
        lines.append(PRIVATE_NEVER)
        lines.append("It writes: " + ", ".join(self.files))
        lines.append(ARCHIVE_TOOLS if self.archive else NOT_ENCRYPTED)
        return lines


def preview_of(contents: HandoffContents, choice: HandoffChoice) -> HandoffPreview:
    sizes = {"meds": len(contents.medications), "doses": contents.doses_logged,
             "vitals": len(contents.vitals), "mood": len(contents.mood),
             "sleep": len(contents.sleep), "appointments": len(contents.appointments),
             "records": len(contents.records), "journal": len(contents.journal),
             # The page is computed only when written; it weighs each of these (and
             # says so in one line when there is none).
             INSIGHTS: len(contents.changes_in_period())}
    name = contents.patient.name
    files = ((archive_name(name, choice.start, choice.end),) if choice.archive
             else plain_names(name, choice.start, choice.end,
                             calendar="appointments" in choice.include))
    records = tuple(ChosenRecord(r.id, r.title, r.event_date, r.type_label,
                                 len(r.attachments) if choice.attachments else 0)
                    for r in contents.records)
    return HandoffPreview(name, choice.start, choice.end,
                          tuple((k, sizes[k]) for k in HANDOFF_KINDS if k in choice.include),
                          records, files, choice.archive)


class HandoffPreviews(DomainService):
    @on_db_thread
    def records_to_choose(self, patient_id: str) -> list[ChosenRecord]:
        """The patient's records, newest event first, for the form's chooser."""
        return [ChosenRecord(r.id, r.title, r.event_date, r.type_label, len(r.attachments))
                for r in Records(self.session).list(patient_id)]

    @on_db_thread
    def preview(self, choice: HandoffChoice) -> HandoffPreview:
        """What `choice` would write, read now (nothing is written, nothing audited)."""
        return preview_of(HandoffReader(self.session).read(choice).contents, choice)
