"""An attachment's file on disk: AES-256-GCM in chunks, so a 100 MB scan is never whole
in memory, and nothing of it is ever written in plaintext.

    header  = b"LUNAATT1" ‖ salt (32 random bytes, new for every file)
    key     = HKDF-SHA256(attachments sub-key, salt, info="luna/attachment-file")
    chunk i = AES-256-GCM(key, nonce = i as 11 bytes big-endian ‖ last?, plaintext ≤ 1 MiB,
                          aad = header ‖ attachment id ‖ 0x00 ‖ record id)

The random salt gives every file its own key, so the counter nonces never repeat
under one key. The final chunk's nonce says it is the last (the STREAM construction
of age and Tink): a file cut at a chunk boundary, chunks swapped, extra bytes added,
or a file moved under another attachment's or record's name all fail to open.
An empty file is one empty final chunk.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from luna_tui.errors import AttachmentDamaged, LunaError
from luna_tui.fault_points import pause_here
from luna_tui.home import ensure_private_dir, os_error_to_luna

MAGIC = b"LUNAATT1"
SALT_LENGTH = 32
HEADER_LENGTH = len(MAGIC) + SALT_LENGTH
CHUNK = 1 << 20
TAG = 16
FILE_KEY_INFO = b"luna/attachment-file"

Progress = Callable[[int], None]  # bytes of plaintext done so far


class TooLarge(LunaError):
    """The source grew past the limit while it was being read."""


@dataclass(frozen=True)
class SealedFile:
    size: int
    sha256: str  # of the plaintext


def storage_path(attachment_id: str) -> str:
    """Where an attachment's file lives, relative to LUNA_HOME: 256 folders keep any one
    folder small."""
    return f"attachments/{attachment_id[:2]}/{attachment_id}"


def seal_file(source: BinaryIO, destination: Path, key: bytes, attachment_id: str,
              record_id: str, *, max_size: int, progress: Progress | None = None
              ) -> SealedFile:
    """Encrypt `source` into `destination` (which must not exist yet). It is written to
    a temp name beside it, fsynced and renamed, so a crash or a full disk leaves no
    half-file under the real name; the temp file is removed on any failure."""

    ensure_private_dir(destination.parent.parent)  # attachments/ itself, whatever the umask
    ensure_private_dir(destination.parent)
    temp = destination.with_name(f".{destination.name}.part")
    try:
        fd = os.open(temp, os.O_CREAT | os.O_EXCL | os.O_WRONLY | getattr(os, "O_NOFOLLOW", 0),
                     0o600)
    except OSError as exc:
        raise os_error_to_luna(exc, destination) from exc
    try:
        with os.fdopen(fd, "wb") as out:
            sealed = _write_chunks(source, out, key, _aad_ids(attachment_id, record_id),
                                   max_size, progress)
            out.flush()
            os.fsync(out.fileno())
        pause_here("attachment.before-rename")
        _move_into_place(temp, destination)
        _fsync_dir(destination.parent)
    except OSError as exc:
        temp.unlink(missing_ok=True)
        raise os_error_to_luna(exc, destination) from exc
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return sealed


def _write_chunks(source: BinaryIO, out: BinaryIO, key: bytes, ids: bytes, max_size: int,
                  progress: Progress | None) -> SealedFile:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    salt = os.urandom(SALT_LENGTH)
    header = MAGIC + salt
    cipher = AESGCM(_file_key(key, salt))
    aad = header + ids
    out.write(header)
    digest = hashlib.sha256()
    size, index = 0, 0
    chunk = _read(source, CHUNK)
    while True:
        following = _read(source, CHUNK) if len(chunk) == CHUNK else b""
        size += len(chunk)
        if size > max_size:
            raise TooLarge("The file grew past the size limit while Luna read it.")
        digest.update(chunk)
        out.write(cipher.encrypt(_nonce(index, last=not following), chunk, aad))
        if progress:
            progress(size)
        if not following:
            return SealedFile(size, digest.hexdigest())
        chunk, index = following, index + 1


class SourceUnreadable(LunaError):
    """The file being attached could not be read to its end."""


def _read(source: BinaryIO, size: int) -> bytes:
    try:
        return source.read(size)
    except OSError as exc:
        name = getattr(source, "name", "the file")
        raise SourceUnreadable(f"Luna can't read {name}: {exc.strerror or exc}.") from None


def read_chunks(path: Path, key: bytes, attachment_id: str, record_id: str
                ) -> Iterator[bytes]:
    """The plaintext, a chunk at a time; AttachmentDamaged the moment anything does not
    authenticate (a caller writing it out must discard what it has on that error)."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    try:
        handle = path.open("rb")
    except FileNotFoundError:
        raise AttachmentDamaged(
            "The attachment's encrypted file is missing from the vault folder; restore it "
            "from a backup.") from None
    with handle:
        header = handle.read(HEADER_LENGTH)
        if len(header) != HEADER_LENGTH or not header.startswith(MAGIC):
            raise _changed()
        cipher = AESGCM(_file_key(key, header[len(MAGIC):]))
        aad = header + _aad_ids(attachment_id, record_id)
        index = 0
        sealed = handle.read(CHUNK + TAG)
        while True:
            following = handle.read(CHUNK + TAG) if len(sealed) == CHUNK + TAG else b""
            try:
                yield cipher.decrypt(_nonce(index, last=not following), sealed, aad)
            except InvalidTag:
                raise _changed() from None
            if not following:
                return
            sealed, index = following, index + 1


def reseal_file(source: Path, destination: Path, old_key: bytes, new_key: bytes,
                attachment_id: str, record_id: str, size: int) -> SealedFile:
    """`source` sealed again under `new_key` at `destination` (a key rotation): decrypted
    a chunk at a time straight into the new seal, never whole in memory, never plaintext
    on disk. AttachmentDamaged if `source` does not authenticate under `old_key`."""
    plaintext = _ChunkStream(read_chunks(source, old_key, attachment_id, record_id))
    return seal_file(plaintext, destination, new_key, attachment_id, record_id, max_size=size)


class _ChunkStream(io.RawIOBase):
    """A readable stream over decrypted chunks, for seal_file (which reads 1 MiB at a
    time): at most a chunk of plaintext in memory."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._buffer = b""

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self._buffer) < size:
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            self._buffer += chunk
        if size < 0:
            size = len(self._buffer)
        taken, self._buffer = self._buffer[:size], self._buffer[size:]
        return taken


def sealed_size(size: int) -> int:
    """The size on disk of a `size`-byte plaintext."""
    chunks = max(1, -(-size // CHUNK))
    return HEADER_LENGTH + size + chunks * TAG


def _changed() -> AttachmentDamaged:
    return AttachmentDamaged(
        "This attachment's file was changed or damaged on disk since Luna stored it, so it "
        "cannot be opened. Restore it from a backup.")


def _file_key(key: bytes, salt: bytes) -> bytes:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=FILE_KEY_INFO).derive(key)


def _nonce(index: int, *, last: bool) -> bytes:
    return index.to_bytes(11, "big") + (b"\x01" if last else b"\x00")


def _aad_ids(attachment_id: str, record_id: str) -> bytes:
    return attachment_id.encode() + b"\x00" + record_id.encode()


def _move_into_place(temp: Path, destination: Path) -> None:
    """Link then unlink, so an existing file is never replaced; where the file system
    has no hard links (vfat, exFAT, some network shares), a rename after a check."""

    try:
        os.link(temp, destination)
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK,
                             errno.ENOSYS):
            raise
        if os.path.lexists(destination):
            raise FileExistsError(errno.EEXIST, "exists", str(destination)) from None
        os.rename(temp, destination)
        return
    temp.unlink()


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not every file system lets a folder be fsynced
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
