"""Reading one member of a zip archive someone else made, as if it were hostile.

Nothing is ever extracted to disk: the member Luna wants is streamed out of the
archive. Still, an archive is refused whole when it is not what the apps that make
these archives write:
- more entries, or a bigger central directory, than `MAX_ENTRIES` / `MAX_DIRECTORY_BYTES`
  (counted from the archive's end record before the directory is read: a directory of
  ten million names would fill memory before any other check could run);
- a name that is absolute, climbs out with `..`, starts with a drive letter or holds a
  backslash or a NUL ("zip slip": harmless here, but no honest export has one);
- an encrypted entry (Luna can't read it, and no export app writes one).
The member read must be stored or deflated, its declared size within the caller's
bound, and its ACTUAL size is counted while it streams: a header that lies about the
size is caught (Python's zipfile stops at the declared size and then finds the CRC
wrong; Luna stops at its own count as well). Archives inside the archive are never
opened. Every refusal is an `ImportRejected` in one sentence.
"""

from __future__ import annotations

import re
import struct
import zipfile
import zlib
from typing import BinaryIO

from luna_tui.errors import ImportRejected
from luna_tui.human_size import human_size

# An Apple Health export holds export.xml, export_cda.xml, an ECG .csv per recording and
# a .gpx per workout route: hundreds to a few thousand names; a Daylio backup one per
# photo. 100,000 names is far beyond both and keeps the directory's objects to ~50 MB.
MAX_ENTRIES = 100_000
MAX_DIRECTORY_BYTES = 32 * 2**20
READ_CHUNK = 1 << 16

_END_RECORD = b"PK\x05\x06"
_ZIP64_LOCATOR = b"PK\x06\x07"
_ZIP64_END = b"PK\x06\x06"
_DRIVE = re.compile(r"^[A-Za-z]:")


def looks_like_zip(head: bytes) -> bool:
    """A zip archive's first bytes: a local header, or the end record of an empty one."""
    return head.startswith((b"PK\x03\x04", _END_RECORD))


class UntrustedZip:
    """An archive whose directory passed the checks above; `open_member` streams one
    member under a size bound."""

    def __init__(self, handle: BinaryIO, name: str) -> None:
        self.name = name
        entries, directory_bytes = _directory_size(handle, name)
        if entries > MAX_ENTRIES or directory_bytes > MAX_DIRECTORY_BYTES:
            raise ImportRejected(
                f"{name} lists {entries:,} files in {human_size(directory_bytes)}; Luna "
                f"reads archives of at most {MAX_ENTRIES:,} files.")
        try:
            self._zip = zipfile.ZipFile(handle)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError,
                OSError) as exc:
            raise ImportRejected(f"{name} is not a zip archive Luna can read ({exc}).") from None
        infos = self._zip.infolist()
        if len(infos) > MAX_ENTRIES:
            raise ImportRejected(f"{name} lists more than {MAX_ENTRIES:,} files; Luna "
                                 "refuses it.")
        for info in infos:
            _check_entry(info, name)

    def names(self) -> list[str]:
        return self._zip.namelist()

    def size_of(self, member: str) -> int:
        """What `member` declares it unpacks to (counted again when it is read)."""
        return self._zip.getinfo(member).file_size

    def open_member(self, member: str, max_bytes: int) -> BoundedMember:
        """A reader of `member` that refuses to yield more than its declared size or
        `max_bytes`, whichever is smaller."""
        info = self._zip.getinfo(member)
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise ImportRejected(f"{self.name}: {member} is compressed in a way export "
                                 "apps don't use (method "
                                 f"{info.compress_type}); Luna refuses it.")
        if info.file_size > max_bytes:
            raise ImportRejected(
                f"{self.name}: {member} unpacks to {human_size(info.file_size)}, more than "
                f"the {human_size(max_bytes)} Luna reads from it.")
        try:
            raw = self._zip.open(info)
        except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
            raise ImportRejected(f"{self.name}: {member} can't be read ({exc}).") from None
        return BoundedMember(raw, f"{self.name}: {member}", info.file_size)

    def close(self) -> None:
        self._zip.close()


class BoundedMember:
    """One member's bytes as they unpack, counted: more than it declared is refused the
    moment it appears, and a damaged or forged stream is one sentence, not a traceback."""

    def __init__(self, raw: BinaryIO, label: str, declared: int) -> None:
        self._raw, self.label, self.size = raw, label, declared
        self.done = 0

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            size = self.size - self.done + 1
        try:
            data = self._raw.read(min(size, READ_CHUNK * 4))
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as exc:
            raise ImportRejected(
                f"{self.label} does not unpack as its archive says it should ({exc}): a "
                "damaged or forged archive; nothing was imported.") from None
        self.done += len(data)
        if self.done > self.size:
            raise ImportRejected(
                f"{self.label} unpacks to more than the {human_size(self.size)} its "
                "archive declares (a zip bomb or a damaged archive); nothing was imported.")
        return data

    def read_all(self) -> bytes:
        chunks = []
        while chunk := self.read(READ_CHUNK):
            chunks.append(chunk)
        return b"".join(chunks)

    def close(self) -> None:
        self._raw.close()


def _check_entry(info: zipfile.ZipInfo, archive: str) -> None:
    name = info.filename
    parts = name.split("/")
    if (name.startswith("/") or "\\" in name or "\0" in name or _DRIVE.match(name)
            or ".." in parts):
        shown = name[:80].encode("unicode_escape").decode("ascii")
        raise ImportRejected(f"{archive} holds a file named {shown!r}, a path that points "
                             "outside the archive; Luna refuses it.")
    if info.flag_bits & 0x1:
        raise ImportRejected(f"{archive} holds an encrypted file ({name[:80]}); export apps "
                             "don't encrypt, and Luna can't read it.")


def _directory_size(handle: BinaryIO, name: str) -> tuple[int, int]:
    """(entries, central directory bytes) as the archive's end record declares them,
    read from its last 64 KiB (the zip64 record when the classic one overflows)."""
    end = handle.seek(0, 2)
    tail_start = max(0, end - (22 + 0xFFFF))
    handle.seek(tail_start)
    tail = handle.read()
    at = tail.rfind(_END_RECORD)
    if at < 0 or len(tail) - at < 22:
        raise ImportRejected(f"{name} is not a whole zip archive (its end record is "
                             "missing: is it cut short?).")
    entries, directory_bytes = struct.unpack("<10xHL6x", tail[at:at + 22])
    locator = at - 20
    if (entries == 0xFFFF or directory_bytes == 0xFFFFFFFF) and locator >= 0 and (
            tail[locator:locator + 4] == _ZIP64_LOCATOR):
        (record_at,) = struct.unpack("<8xQ4x", tail[locator:locator + 20])
        handle.seek(record_at)
        record = handle.read(56)
        if len(record) < 56 or not record.startswith(_ZIP64_END):
            raise ImportRejected(f"{name} is not a zip archive Luna can read (its zip64 "
                                 "end record is missing).")
        entries, directory_bytes = struct.unpack("<32xQQ8x", record)
    handle.seek(0)
    return entries, directory_bytes

