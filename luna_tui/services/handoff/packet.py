"""Writing a hand-off: read once, make every file in memory, audit, then write.

As plain files, into a folder made 0700 if new: the PDF, the FHIR R4 document Bundle
(.json, from services/fhir/writing.py) and, with the appointments, the .ics, each 0600
and renamed into place only when whole (services/export_files.py); they are NOT
encrypted, and every caller says so. As an archive: only one AES-256 zip, its members
assembled in memory and never on disk, not even as a temp file; its passphrase is
made here, returned once to be shown, and never logged nor audited.

The audit row comes before any file: what was included (kinds and counts, record ids),
for whom (the patient's id), which files (names, not contents) and whether as an
archive. Like every export it is a read, so a read-only key may make one.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
from dataclasses import dataclass
from pathlib import Path

from luna_tui.clock import local_zone
from luna_tui.errors import LunaError
from luna_tui.home import os_error_to_luna
from luna_tui.services.calendar_export import build_calendar
from luna_tui.services.export_files import private_output
from luna_tui.services.fhir.writing import bundle
from luna_tui.services.handoff.archive import encrypted_zip
from luna_tui.services.handoff.archive_passphrase import new_archive_passphrase
from luna_tui.services.handoff.choices import HandoffChoice
from luna_tui.services.handoff.contents_reader import HandoffRead, HandoffReader
from luna_tui.services.handoff.file_names import plain_names
from luna_tui.services.handoff.insight_rows import Progress, insight_rows
from luna_tui.services.handoff.pdf_document import render_pdf
from luna_tui.services.handoff.preview import (
    ARCHIVE_TOOLS,
    NOT_ENCRYPTED,
    HandoffPreview,
    preview_of,
)
from luna_tui.services.insights.before_after import AnalysisSettings
from luna_tui.services.vault_session import VaultSession

AUDIT_EVENT = "export.handoff"


@dataclass(frozen=True)
class WrittenPacket:
    folder: Path
    files: tuple[str, ...]  # names in `folder`
    passphrase: str | None  # the archive's, to show once; None for plain files
    preview: HandoffPreview  # what went in

    def sentences(self) -> list[str]:
        """What the person must know of what was written."""
        if self.passphrase is not None:
            return [ARCHIVE_TOOLS]
        return [NOT_ENCRYPTED]


def write_packet(session: VaultSession, choice: HandoffChoice, folder: Path, *,
                 progress: Progress | None = None,
                 insight_settings: AnalysisSettings | None = None) -> WrittenPacket:
    """Write the hand-off of `choice` into `folder` (not on the DB thread: the reads and
    the audit go there, the insights and the PDF are made here). `progress` hears how
    far the insights page is; `insight_settings` are its analyses' (tests use fewer
    permutations)."""
    now = session.clock.now()
    read = HandoffReader(session).read(choice)
    rows = insight_rows(session, choice, settings=insight_settings, progress=progress)
    read = dataclasses.replace(read, contents=dataclasses.replace(read.contents,
                                                                  insights=rows))
    preview = preview_of(read.contents, choice)
    members = _members(read, choice, now)
    _make_folder(folder)
    session.run(_audit, session, choice, preview)
    if not choice.archive:
        for name, content in members:
            _write(folder / name, content)
        return WrittenPacket(folder, preview.files, None, preview)
    passphrase = new_archive_passphrase()
    local = now.astimezone().replace(tzinfo=None)
    _write(folder / preview.files[0], encrypted_zip(members, passphrase, when=local))
    return WrittenPacket(folder, preview.files, passphrase, preview)


def _members(read: HandoffRead, choice: HandoffChoice, now: dt.datetime) -> list[tuple[str, bytes]]:
    """The files' names and bytes, in memory."""
    contents = read.contents
    name = contents.patient.name
    document = bundle(read.health, kind="document", now=now,
                      title=f"Health summary: {name}")
    made = [render_pdf(contents, now=now),
            json.dumps(document, indent=2, ensure_ascii=False).encode("utf-8")]
    if "appointments" in choice.include:
        made.append(build_calendar(contents.appointments, stamp=now, zone=local_zone()))
    names = plain_names(name, choice.start, choice.end,
                        calendar="appointments" in choice.include)
    return list(zip(names, made, strict=True))


def _make_folder(folder: Path) -> None:
    """The folder, made 0700 if new (an existing folder keeps its mode: it is the
    person's)."""
    try:
        if folder.exists() and not folder.is_dir():
            raise LunaError(f"{folder} is a file; name a folder to write the hand-off into.")
        if not folder.exists():
            folder.mkdir(mode=0o700, parents=True)
            os.chmod(folder, 0o700)  # whatever the umask said
    except OSError as error:
        raise os_error_to_luna(error, folder) from error


def _write(path: Path, content: bytes) -> None:
    with private_output(path, binary=True) as out:
        out.write(content)


def _audit(session: VaultSession, choice: HandoffChoice, preview: HandoffPreview) -> None:
    # Never the passphrase: it does not exist yet, and the log keeps rows forever.
    with session.transaction() as tx:
        tx.record(AUDIT_EVENT, choice.patient_id, {
            "included": [None, dict(preview.counts)],
            "records": [None, sorted(r.id for r in preview.records)],
            "attachments": [None, choice.attachments],
            "period": [None, [choice.start.isoformat(), choice.end.isoformat()]],
            "files": [None, list(preview.files)],
            "archive": [None, choice.archive],
        })
