"""What kind of file an attachment is, and the words in it that search can find: the
text of a text file, the text layer of a PDF (pypdf). Everything else (images, scans
without a text layer) is stored and found by its record's own fields only."""

from __future__ import annotations

import contextlib
import logging
import mimetypes
from typing import BinaryIO

MAX_TEXT_CHARS = 500_000  # per attachment: enough for a long report, bounded for search
MAX_TEXT_FILE_BYTES = 2_000_000
MAX_PDF_PAGES = 500
_MAGIC = ((b"%PDF-", "application/pdf"), (b"\x89PNG\r\n\x1a\n", "image/png"),
          (b"\xff\xd8\xff", "image/jpeg"), (b"GIF8", "image/gif"),
          (b"II*\x00", "image/tiff"), (b"MM\x00*", "image/tiff"),
          (b"PK\x03\x04", "application/zip"))
TEXT_TYPES = ("application/json", "application/xml", "application/csv")


def guess_mime_type(file_name: str, head: bytes) -> str:
    """From the first bytes when they say (a PDF named .txt is a PDF), else the name,
    else text if it reads as UTF-8."""
    for magic, mime in _MAGIC:
        if head.startswith(magic):
            return mime
    if head[128:132] == b"DICM":
        return "application/dicom"
    guessed, _ = mimetypes.guess_type(file_name, strict=False)
    if guessed:
        return guessed
    if head and _looks_like_text(head):
        return "text/plain"
    return "application/octet-stream"


def is_text(mime_type: str) -> bool:
    return mime_type.startswith("text/") or mime_type in TEXT_TYPES


def extract_text(source: BinaryIO, mime_type: str) -> str | None:
    """The searchable words of a file (read from its start through the handle it was
    encrypted from, so the words are of the same bytes), or None when it has none Luna
    can read."""
    if is_text(mime_type):
        return _bounded(decode_text(source.read(MAX_TEXT_FILE_BYTES)))
    if mime_type == "application/pdf":
        return _bounded(pdf_text(source))
    return None


def decode_text(data: bytes) -> str:
    for encoding in ("utf-8-sig", "utf-16"):
        with contextlib.suppress(UnicodeDecodeError):
            if encoding == "utf-16" and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
                continue
            return data.decode(encoding)
    return data.decode("latin-1")


def pdf_text(source: BinaryIO) -> str | None:
    """The text layer of a PDF; None for a scan, an encrypted or a malformed PDF."""
    from pypdf import PdfReader  # deferred: only attaching a PDF needs it

    pdf_logger = logging.getLogger("pypdf")
    level = pdf_logger.level
    pdf_logger.setLevel(logging.CRITICAL)  # its warnings would land on the screen
    try:
        reader = PdfReader(source)
        if reader.is_encrypted and not reader.decrypt(""):
            return None
        pages = []
        for page in reader.pages[:MAX_PDF_PAGES]:
            pages.append(page.extract_text() or "")
            if sum(map(len, pages)) > MAX_TEXT_CHARS:
                break
        return "\n\n".join(p.strip() for p in pages if p.strip()) or None
    except Exception:  # noqa: BLE001 - pypdf raises many kinds on damaged files
        return None
    finally:
        pdf_logger.setLevel(level)


def _bounded(text: str | None) -> str | None:
    if not text:
        return None
    text = text.replace("\x00", "").strip()
    return text[:MAX_TEXT_CHARS] or None


def _looks_like_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        return error.start > len(head) - 4  # a character cut by the sample's end
    return True
