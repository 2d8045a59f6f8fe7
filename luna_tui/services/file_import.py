"""`luna import FILE`: which importer a file goes to, told by its first bytes.

A zip archive is an Apple Health export (it holds `apple_health_export/export.xml`) or a
Daylio backup (it holds `backup.daylio`); XML is Apple Health's export.xml; JSON is a
Luna, jrnl or other JSON export (services/importing.py tells which); anything else is
read as CSV vitals when it is named `.csv` or a mapping is given. A name whose extension
says one kind over content of another (a `.zip` that is text) is refused: something is
wrong with the file.

Everything that needs no vault happens in `prepare_import`, before the passphrase is
asked for: the file's type and size, an archive's directory, a Daylio backup whole, a
CSV file's header against the mapping. `run` then streams the rest into the vault in
one transaction. Bounds per format (each one sentence when passed):
- JSON: 512 MiB (services/import_file.py: it is parsed whole).
- Apple Health: 16 GiB of export.xml, zipped or not. It streams in flat memory, so the
  bound is about time (a long-time watch wearer's export is a few GB).
- Daylio: a 2 GiB archive (it carries the photos Luna leaves out) and 32 MiB of
  backup.daylio, which is decoded whole (years of notes are a few MB).
- CSV: 256 MiB, read row by row.

The app asks first what a file is (`identify_import`: the line under its path, and
which of the form's options apply), then imports it in a worker thread with
`run_import`, which prepares, runs and closes it in one go.
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from luna_tui.errors import ImportRejected, LunaError, ValidationError
from luna_tui.human_size import human_size
from luna_tui.services.apple_health import ROOT, AppleHealthReader
from luna_tui.services.csv_vitals import (
    MAX_CSV_BYTES,
    CsvReadings,
    csv_header,
    csv_rows,
    parse_mapping,
)
from luna_tui.services.daylio import (
    BACKUP_MEMBER,
    MAX_BACKUP_BYTES,
    DaylioEntry,
    daylio_entries,
    decode_backup,
)
from luna_tui.services.import_file import open_import_file, read_import_file
from luna_tui.services.importing import CheckedImport, Importer, check_document
from luna_tui.services.journal import Journal
from luna_tui.services.settings import Settings
from luna_tui.services.untrusted_zip import BoundedMember, UntrustedZip, looks_like_zip
from luna_tui.services.vital_import import NewReading, VitalImporter, VitalImportResult
from luna_tui.services.vitals import Vitals
from luna_tui.services.xml_stream import Readable, root_children

if TYPE_CHECKING:
    from luna_tui.services.vault_session import VaultSession

MAX_APPLE_XML_BYTES = 16 * 2**30
MAX_DAYLIO_ARCHIVE_BYTES = 2 * 2**30
APPLE_MEMBER = "apple_health_export/export.xml"
SNIFF_BYTES = 512
CSV_PROGRESS_ROWS = 5000
_NAMED = {".zip": "zip", ".daylio": "zip", ".xml": "xml", ".json": "json", ".csv": "csv"}

Progress = Callable[[int, int], None]
# How far an import is, as the app shows it: the fraction done and the same in words
# ("120.3 MB of 397.0 MB").
Told = Callable[[float, str], None]
KIND_NAMES = {"json": "JSON export", "apple_health": "Apple Health export",
              "daylio": "Daylio backup", "csv": "Vitals in CSV"}
# Which of ImportOptions' fields each kind takes (the shell's flags: --format, --daily,
# --privacy, --map and --skip-bad).
OPTIONS_BY_KIND = {"json": frozenset({"format"}), "apple_health": frozenset({"daily"}),
                   "daylio": frozenset({"privacy"}),
                   "csv": frozenset({"mapping", "skip_bad"})}


@dataclass(frozen=True)
class ImportOptions:
    format: str | None = None  # JSON only: luna, jrnl, …
    mapping: tuple[str, ...] = ()  # CSV only
    skip_bad: bool = False  # CSV only
    daily: bool = False  # Apple Health only
    privacy: str | None = None  # Daylio only; None: private


@dataclass(frozen=True)
class ImportFile:
    """What a file to import is, told from its first bytes (and an archive's directory)
    without reading the rest."""

    kind: str  # a key of KIND_NAMES
    name: str
    size: int
    member: str | None = None  # export.xml's path inside an Apple Health export.zip
    member_size: int = 0

    def describe(self) -> str:
        """"Apple Health export (export.xml, 397.0 MB)"."""
        inside = (f", holding a {human_size(self.member_size)} "
                  f"{self.member.split('/')[-1]}" if self.member else "")
        return f"{KIND_NAMES[self.kind]} ({self.name}, {human_size(self.size)}{inside})"

    @property
    def options_taken(self) -> frozenset[str]:
        return OPTIONS_BY_KIND[self.kind]

    def applicable(self, options: ImportOptions) -> ImportOptions:
        """`options` less those that don't apply to this kind of file (the app's form
        holds every kind's options; `prepare_import` refuses one that doesn't apply)."""
        return ImportOptions(**{name: getattr(options, name) for name in self.options_taken})


def identify_import(path: Path, options: ImportOptions | None = None) -> ImportFile:
    """What `path` is, or the sentence `prepare_import` would refuse it with for being
    none of what Luna imports (`options`: a mapping makes a text file CSV)."""
    kind = _kind(path, options or ImportOptions())
    with _open(path, MAX_APPLE_XML_BYTES, "file") as handle:
        size = handle.seek(0, 2)
        if kind == "xml":
            return ImportFile("apple_health", path.name, size)
        if kind != "zip":
            return ImportFile(kind, path.name, size)
        archive = UntrustedZip(handle, path.name)
        try:
            kind, member = _archive_kind(archive.names(), path.name)
            return ImportFile(kind, path.name, size, member,
                              archive.size_of(member) if member else 0)
        finally:
            archive.close()


def run_import(session: VaultSession, path: Path, options: ImportOptions,
               patient_id: str | None = None, told: Told | None = None) -> str:
    """Prepare `path`, import it and let go of it, whatever happens (the app's import,
    in a worker thread; the shell prepares before it asks for the passphrase)."""
    with prepare_import(path, options) as prepared:
        def progress(done: int, total: int) -> None:  # in the importing thread
            assert told is not None
            told(min(1.0, done / total) if total else 1.0, prepared.how_far(done, total))

        return prepared.run(session, patient_id, progress if told else None)


class PreparedImport(ABC):
    """A file checked as far as it can be without the vault; `run` imports it and
    returns what to tell the person. Close it (or use `with`) when done."""

    what = "a file"
    options_taken: frozenset[str] = frozenset()

    @abstractmethod
    def run(self, session: VaultSession, patient_id: str | None,
            progress: Progress | None = None) -> str:
        """Import into the vault (`patient_id` None: the current patient)."""

    def how_far(self, done: int, total: int) -> str:
        """Progress as `run` reports it, in words: "1,200 of 3,400 rows"."""
        return f"{done:,} of {total:,}"

    def close(self) -> None:  # noqa: B027 (a default: most importers hold no file)
        """Let go of the file, if it is still held."""

    def __enter__(self) -> PreparedImport:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def prepare_import(path: Path, options: ImportOptions) -> PreparedImport:
    kind = _kind(path, options)
    prepared: PreparedImport
    if kind == "json":
        prepared = _JsonImport(check_document(read_import_file(path), options.format))
    elif kind == "xml":
        prepared = _AppleHealthImport(_open(path, MAX_APPLE_XML_BYTES, "export.xml"), None,
                                      path.name, options.daily)
    elif kind == "csv":
        prepared = _CsvImport(_open(path, MAX_CSV_BYTES, "CSV file"), path.name, options)
    else:
        prepared = _from_archive(path, options)
    try:
        _refuse_unused(prepared, options)
    except BaseException:
        prepared.close()
        raise
    return prepared


def _kind(path: Path, options: ImportOptions) -> str:
    with _open(path, MAX_APPLE_XML_BYTES, "file") as handle:
        head = handle.read(SNIFF_BYTES)
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    if looks_like_zip(head):
        found = "zip"
    elif text.startswith(b"<"):
        found = "xml"
    elif text.startswith((b"{", b"[")):
        found = "json"
    else:
        found = "csv" if path.suffix.lower() == ".csv" or options.mapping else ""
    named = _NAMED.get(path.suffix.lower())
    if named and found != named:
        raise ImportRejected(f"{path.name} is named {path.suffix} but its first bytes are "
                             f"{_what_bytes(found)}; Luna refuses a file that is not what "
                             "its name says.")
    if not found:
        raise ImportRejected(
            f"Luna can't tell what {path.name} is: it imports Apple Health exports (.zip, "
            ".xml), Daylio backups (.daylio), vitals in CSV (.csv) and JSON exports.")
    return found


def _what_bytes(kind: str) -> str:
    return {"zip": "a zip archive's", "xml": "XML", "json": "JSON",
            "csv": "text", "": "of no format Luna reads"}[kind]


def _open(path: Path, max_bytes: int, what: str) -> BinaryIO:
    def too_big(too_large: Path) -> LunaError:
        return ImportRejected(f"{too_large.name} is larger than {human_size(max_bytes)}, the "
                              f"most Luna imports from one {what}.")

    return open_import_file(path, max_bytes, too_big)


def _from_archive(path: Path, options: ImportOptions) -> PreparedImport:
    handle = _open(path, MAX_APPLE_XML_BYTES, "zip archive")
    try:
        archive = UntrustedZip(handle, path.name)
        names = archive.names()
        member = _apple_member(names)
        if member is not None:
            return _AppleHealthImport(handle, archive.open_member(member, MAX_APPLE_XML_BYTES),
                                      f"{path.name}: {member}", options.daily)
    except BaseException:
        handle.close()
        raise
    with handle:
        _archive_kind(names, path.name)  # a Daylio backup, or refused
        if handle.seek(0, 2) > MAX_DAYLIO_ARCHIVE_BYTES:
            raise ImportRejected(f"{path.name} is larger than "
                                 f"{human_size(MAX_DAYLIO_ARCHIVE_BYTES)}, the most Luna "
                                 "reads of a Daylio backup.")
        data = archive.open_member(BACKUP_MEMBER, MAX_BACKUP_BYTES).read_all()
    document = decode_backup(data, f"{path.name}: {BACKUP_MEMBER}")
    return _DaylioImport(daylio_entries(document, options.privacy or "private"))


def _archive_kind(names: list[str], name: str) -> tuple[str, str | None]:
    """("apple_health", its export.xml) or ("daylio", None), from an archive's names."""
    member = _apple_member(names)
    if member is not None:
        return "apple_health", member
    if BACKUP_MEMBER in names:
        return "daylio", None
    raise ImportRejected(f"{name} is a zip archive, but neither an Apple Health export "
                         f"({APPLE_MEMBER}) nor a Daylio backup ({BACKUP_MEMBER}).")


def _apple_member(names: list[str]) -> str | None:
    """Apple's export.xml: in apple_health_export/ (the folder's name can differ by the
    phone's language), never deeper; export_cda.xml and the rest are left alone."""
    if APPLE_MEMBER in names:
        return APPLE_MEMBER
    found = [n for n in names if n.split("/")[-1] == "export.xml" and n.count("/") <= 1]
    return min(found, key=len) if found else None


def _refuse_unused(prepared: PreparedImport, options: ImportOptions) -> None:
    given = {"--format": options.format is not None, "--map": bool(options.mapping),
             "--skip-bad": options.skip_bad, "--daily": options.daily,
             "--privacy": options.privacy is not None}
    unused = [name for name, used in given.items()
              if used and name not in prepared.options_taken]
    if unused:
        raise ValidationError(f"{', '.join(unused)} {'don' if len(unused) > 1 else 'doesn'}'t "
                              f"apply to {prepared.what}.")


def _patient(session: VaultSession, patient_id: str | None) -> str:
    return patient_id or Settings(session).current_patient_id()


# -- the importers -----------------------------------------------------------------------


class _JsonImport(PreparedImport):
    what = "a JSON export"
    options_taken = frozenset({"--format"})

    def __init__(self, checked: CheckedImport) -> None:
        self.checked = checked

    def run(self, session: VaultSession, patient_id: str | None,
            progress: Progress | None = None) -> str:
        return Importer(session).import_checked(self.checked, patient_id=patient_id,
                                                progress=progress).summary()

    def how_far(self, done: int, total: int) -> str:
        unit = ("journal entries" if self.checked.jrnl_entries is not None else
                "resources" if self.checked.fhir is not None else "rows")
        return f"{done:,} of {total:,} {unit}"


class _AppleHealthImport(PreparedImport):
    what = "an Apple Health export"
    options_taken = frozenset({"--daily"})

    def __init__(self, handle: BinaryIO, member: BoundedMember | None, label: str,
                 daily: bool) -> None:
        """`member`: export.xml inside the archive `handle`; None: `handle` is it."""
        self.handle, self.member, self.label, self.daily = handle, member, label, daily

    def run(self, session: VaultSession, patient_id: str | None,
            progress: Progress | None = None) -> str:
        patient = _patient(session, patient_id)
        source: Readable
        if self.member is not None:
            source, total = self.member, self.member.size
        else:
            source, total = self.handle, self.handle.seek(0, 2)
            self.handle.seek(0)
        importer = VitalImporter(session)
        not_after = (importer.local_now() + dt.timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M")

        def produce(add: Callable[[NewReading], None], result: VitalImportResult) -> None:
            reader = AppleHealthReader(patient, not_after, daily=self.daily, add=add,
                                       result=result)
            reader.read(root_children(
                source, self.label, ROOT, "an Apple Health export",
                (lambda done: progress(done, total)) if progress else None))

        return importer.import_readings(patient, "an Apple Health export", "apple_health",
                                        produce).summary()

    def how_far(self, done: int, total: int) -> str:
        return f"{human_size(done)} of {human_size(total)}"

    def close(self) -> None:
        if self.member is not None:
            self.member.close()
        self.handle.close()


class _DaylioImport(PreparedImport):
    what = "a Daylio backup"
    options_taken = frozenset({"--privacy"})

    def __init__(self, entries: list[DaylioEntry]) -> None:
        self.entries = entries

    def run(self, session: VaultSession, patient_id: str | None,
            progress: Progress | None = None) -> str:
        patient = _patient(session, patient_id)
        total = len(self.entries)
        try:
            added = Journal(session).import_entries(
                patient, [entry.draft for entry in self.entries], source="daylio",
                ids=[entry.stable_id(patient) for entry in self.entries],
                progress=(lambda done: progress(done, total)) if progress else None)
        except ValidationError as error:
            raise ImportRejected(f"A Daylio entry can't be imported ({error}); nothing "
                                 "was.") from None
        already = total - added
        return (f"Imported {added:,} journal entr{'y' if added == 1 else 'ies'} from a "
                "Daylio backup." + (f" {already:,} were already in this vault."
                                    if already else ""))

    def how_far(self, done: int, total: int) -> str:
        return f"{done:,} of {total:,} entries"


class _CsvImport(PreparedImport):
    what = "a CSV file"
    options_taken = frozenset({"--map", "--skip-bad"})

    def __init__(self, handle: BinaryIO, name: str, options: ImportOptions) -> None:
        self.handle, self.name, self.skip_bad = handle, name, options.skip_bad
        try:
            self.size = handle.seek(0, 2)
            handle.seek(0)
            self.reader = csv_rows(handle)
            header = csv_header(self.reader, name)
            self.mapping = parse_mapping(options.mapping, header)
        except BaseException:
            handle.close()
            raise

    def run(self, session: VaultSession, patient_id: str | None,
            progress: Progress | None = None) -> str:
        patient = _patient(session, patient_id)
        importer = VitalImporter(session)
        rows = self._reported(progress) if progress else self.reader

        def produce(add: Callable[[NewReading], None], result: VitalImportResult) -> None:
            CsvReadings(patient, self.mapping, Vitals(session), skip_bad=self.skip_bad,
                        add=add, result=result, today=importer.today()
                        ).read(rows, lambda: self.reader.line_num)

        return importer.import_readings(patient, f"{self.name} (CSV)", "csv",
                                        produce).summary()

    def _reported(self, progress: Progress) -> Iterator[list[str]]:
        """The rows, with the bytes read so far reported every CSV_PROGRESS_ROWS (the
        text reader reads ahead, so it is as far as it has read)."""
        total = self.size
        for number, row in enumerate(self.reader, 1):
            if number % CSV_PROGRESS_ROWS == 0:
                progress(self.handle.tell(), total)
            yield row
        progress(total, total)

    def how_far(self, done: int, total: int) -> str:
        return f"{human_size(done)} of {human_size(total)}"

    def close(self) -> None:
        self.handle.close()
