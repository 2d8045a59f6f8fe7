"""Files attached to a record: checked, encrypted into the vault (store/attachment_files.py),
their text made searchable, and decrypted back out on request with their checksum
checked on the way.

Order of work, so nothing is half-done after a failure or a crash:
- attaching encrypts the file first (temp name, fsync, rename), then inserts its row;
  if the row can't be written, the file is removed again;
- deleting removes the row first, then the file (never a row without a file);
- both are marked first (store/attachment_markers.py), so the file a killed process
  leaves without a row is removed when the vault next opens with no other Luna in it
  (`remove_files`, `mark_for_removal` and that tidying up live there);
- saving a copy out writes a temp file beside the target, compares the SHA-256 of what
  was decrypted with the one stored, and only then renames it into place.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from luna_tui.errors import AttachmentDamaged, DiskFull, NotFound, ValidationError
from luna_tui.fault_points import pause_here
from luna_tui.home import disk_full, os_error_to_luna
from luna_tui.human_size import human_size
from luna_tui.services.base import DomainService, id_from_prefix, new_id, on_db_thread
from luna_tui.services.records import AttachmentView, attachment_view
from luna_tui.services.validation import refuse_controls
from luna_tui.store import attachment_files, attachment_markers
from luna_tui.store.attachment_markers import mark_for_removal, remove_files
from luna_tui.store.models.records import Attachment, MedicalRecord

if TYPE_CHECKING:
    from luna_tui.services.vault_session import VaultSession

Progress = Callable[[int, int], None]  # bytes done, bytes in all
MAX_VIEW_BYTES = 5_000_000  # what the app shows inside Luna; bigger files are saved out
MAX_FILE_NAME = 255


@dataclass(frozen=True)
class SourceFile:
    path: Path
    file_name: str
    size: int


def source_file(path: str | os.PathLike[str], max_size: int) -> SourceFile:
    """The file a person named, or a sentence saying why it can't be attached."""
    source = Path(os.path.expanduser(str(path)))
    try:
        info = source.stat()
    except FileNotFoundError:
        raise ValidationError(f"There is no file at {source}.", "path") from None
    except PermissionError:
        raise ValidationError(f"Luna may not read {source} (permission denied).",
                              "path") from None
    except OSError as exc:
        raise ValidationError(f"Luna can't read {source}: {exc.strerror or exc}.",
                              "path") from None
    if stat.S_ISDIR(info.st_mode):
        raise ValidationError(f"{source} is a folder; choose a file inside it.", "path")
    if not stat.S_ISREG(info.st_mode):
        raise ValidationError(f"{source} is not a regular file (a device or a pipe).", "path")
    if not os.access(source, os.R_OK):
        raise ValidationError(f"Luna may not read {source} (permission denied).", "path")
    if info.st_size > max_size:
        raise ValidationError(
            f"{source.name} is {human_size(info.st_size)}; attachments may be at most "
            f"{human_size(max_size)} (the attachments.max_mb setting).", "path")
    name = source.name[-MAX_FILE_NAME:] or "attachment"
    refuse_controls({"file_name": name})  # the files table and the save dialog show it
    return SourceFile(source, name, info.st_size)


def copy_target(target: str | os.PathLike[str], file_name: str, *, overwrite: bool) -> Path:
    """Where a copy goes: `target`, or the file's own name inside it when it is a folder
    (or ends with a slash). A sentence for anything that can't be written to."""
    text = os.path.expanduser(str(target))
    path = Path(text)
    try:
        if path.is_dir():
            path = path / (Path(file_name).name or "attachment")
        elif text.endswith(("/", os.sep)):
            raise ValidationError(f"There is no folder {path}.", "path")
        if os.path.lexists(path) and not overwrite:
            raise ValidationError(f"{path} already exists; choose another name.", "path")
        if not path.parent.is_dir():
            raise ValidationError(f"There is no folder {path.parent}.", "path")
    except OSError as exc:
        raise ValidationError(f"Luna may not write to {path}: {exc.strerror or exc}.",
                              "path") from None
    return path


def _unreadable(path: Path, exc: OSError) -> ValidationError:
    return ValidationError(f"Luna can't read {path}: {exc.strerror or exc}.", "path")


def _already_attached(file_name: str) -> ValidationError:
    return ValidationError(f"That file is already attached to this record (as {file_name}).",
                           "path")


class Attachments(DomainService):
    # -- attaching ------------------------------------------------------------------

    def max_size(self) -> int:
        from luna_tui.services.settings import Settings

        return int(Settings(self.session).get("attachments.max_mb")) * 1_000_000

    def add(self, record_id: str, path: str | os.PathLike[str], *,
            progress: Progress | None = None) -> AttachmentView:
        """Encrypt a file into the vault and attach it to a record (not on the DB thread:
        the encryption runs in the caller's thread, the row is written on the DB thread)."""
        self.session.require_writable("attach files")
        limit = self.max_size()
        source = source_file(path, limit)
        self.session.run(self._record_row, record_id)  # before the work: it may be gone
        attachment_id = new_id()
        attachment_markers.mark(self.session.layout, attachment_id)
        try:
            try:
                handle = source.path.open("rb")
            except OSError as exc:
                raise ValidationError(f"Luna can't read {source.path}: "
                                      f"{exc.strerror or exc}.", "path") from None
            with handle:
                return self._encrypt_and_insert(handle, source, attachment_id, record_id,
                                                limit, progress)
        finally:
            attachment_markers.unmark(self.session.layout, attachment_id)

    def _encrypt_and_insert(self, handle: BinaryIO, source: SourceFile, attachment_id: str,
                            record_id: str, limit: int, progress: Progress | None
                            ) -> AttachmentView:
        from luna_tui.services.text_extraction import extract_text, guess_mime_type

        relative = attachment_files.storage_path(attachment_id)
        destination = self.session.layout.home / relative
        try:
            head = handle.read(512)
            handle.seek(0)
        except OSError as exc:
            raise _unreadable(source.path, exc) from None
        sealed = self._seal(handle, destination, attachment_id, record_id, limit,
                            source, progress)
        pause_here("attachment.before-row")
        try:
            mime = guess_mime_type(source.file_name, head)
            try:
                handle.seek(0)
                text = extract_text(handle, mime)  # the very bytes just encrypted
            except OSError as exc:
                raise _unreadable(source.path, exc) from None
            values = {"file_name": source.file_name, "mime_type": mime,
                      "size": sealed.size, "sha256": sealed.sha256,
                      "storage_path": relative, "extracted_text": text}
            return self.session.run(self._insert, attachment_id, record_id, values)
        except BaseException:
            destination.unlink(missing_ok=True)  # no file without its row
            raise

    def _seal(self, handle: BinaryIO, destination: Path, attachment_id: str, record_id: str,
              limit: int, source: SourceFile, progress: Progress | None
              ) -> attachment_files.SealedFile:
        def report(done: int) -> None:
            if progress:
                progress(done, max(done, source.size))

        try:
            return attachment_files.seal_file(
                handle, destination, self.session.keys.attachments, attachment_id, record_id,
                max_size=limit, progress=report)
        except DiskFull:
            raise disk_full(self.session.layout.home) from None  # the vault, not a file in it
        except attachment_files.TooLarge:
            raise ValidationError(
                f"{source.file_name} grew past {human_size(limit)} while Luna read it "
                "(the attachments.max_mb setting).", "path") from None

    def _insert(self, attachment_id: str, record_id: str, values: dict[str, object]
                ) -> AttachmentView:
        from peewee import IntegrityError

        stamp = self.stamp()
        with self.session.writing("attach a file") as tx:
            # Checked inside the transaction: another Luna may attach the same file.
            record = self._record_row(record_id)
            twin = Attachment.get_or_none(Attachment.record == record_id,
                                          Attachment.sha256 == values["sha256"])
            if twin is not None:
                raise _already_attached(twin.file_name)
            try:
                row = Attachment.create(id=attachment_id, record=record_id,
                                        patient=record.patient_id, created_at=stamp,
                                        updated_at=stamp, **values)
            except IntegrityError:
                raise _already_attached(str(values["file_name"])) from None
            self._refresh_record_text(record_id)
            tx.record("attachment.add", attachment_id, {
                "record_id": [None, record_id], "mime_type": [None, values["mime_type"]],
                "size": [None, values["size"]], "text": [None, bool(values["extracted_text"])]})
        return attachment_view(row)

    # -- reading --------------------------------------------------------------------

    @on_db_thread
    def get(self, attachment_id: str) -> AttachmentView:
        return attachment_view(self._row(attachment_id))

    @on_db_thread
    def resolve(self, id_or_prefix: str) -> str:
        return id_from_prefix(Attachment.id, id_or_prefix, "an attachment")

    def save_copy(self, attachment_id: str, target: str | os.PathLike[str], *,
                  overwrite: bool = False, progress: Progress | None = None) -> Path:
        """Decrypt an attachment to `target` (a file, or a folder to put it in under its
        own name). The copy is plaintext, 0600, and appears only once its checksum
        matched; a damaged attachment leaves nothing behind."""
        from luna_tui.services.export_files import private_output

        row = self.session.run(self._row, attachment_id)
        path = copy_target(target, row.file_name, overwrite=overwrite)
        self.session.run(self._audit_read, "attachment.export", row)
        try:
            with private_output(path, binary=True) as out:
                self._decrypt_into(row, out, progress)
        except OSError as exc:
            raise os_error_to_luna(exc, path) from exc
        return path

    def read_for_view(self, attachment_id: str) -> tuple[AttachmentView, bytes | None]:
        """An attachment's plaintext in memory, checksum checked, for showing inside Luna
        (never a temp file); None when it is too big to show."""
        row = self.session.run(self._row, attachment_id)
        if row.size > MAX_VIEW_BYTES:
            return attachment_view(row), None
        self.session.run(self._audit_read, "attachment.view", row)
        chunks: list[bytes] = []

        class Collect:
            def write(self, data: bytes) -> None:
                chunks.append(data)

        self._decrypt_into(row, Collect(), None)
        return attachment_view(row), b"".join(chunks)

    @on_db_thread
    def text_of(self, attachment_id: str) -> str | None:
        """The text Luna read from the file when it was attached (a PDF's text layer);
        shown to a person, so on the audit record like any view."""
        row = self._row(attachment_id)
        self._audit_read("attachment.view", row)
        return row.extracted_text

    def verify(self, attachment_id: str) -> AttachmentView:
        """Decrypt without keeping anything; AttachmentDamaged if it doesn't check out."""
        row = self.session.run(self._row, attachment_id)

        class Discard:
            def write(self, data: bytes) -> None:
                pass

        self._decrypt_into(row, Discard(), None)
        return attachment_view(row)

    def _decrypt_into(self, row: Attachment, out: object, progress: Progress | None) -> None:
        digest = hashlib.sha256()
        done = 0
        for chunk in attachment_files.read_chunks(
                self.session.layout.home / row.storage_path, self.session.keys.attachments,
                row.id, row.record_id):
            digest.update(chunk)
            out.write(chunk)  # type: ignore[attr-defined]
            done += len(chunk)
            if progress:
                progress(done, max(done, row.size))
        if digest.hexdigest() != row.sha256 or done != row.size:
            raise AttachmentDamaged(
                f"{row.file_name} decrypted, but its checksum does not match the one stored "
                "when it was attached, so it was not saved. Restore it from a backup.")

    def _audit_read(self, event: str, row: Attachment) -> None:
        # A read: allowed for read-only keys, and still on the record.
        with self.session.transaction() as tx:
            tx.record(event, row.id, {"record_id": [row.record_id, row.record_id]})

    # -- deleting -------------------------------------------------------------------

    def delete(self, attachment_id: str) -> None:
        path = self.session.run(self._delete_row, attachment_id)
        remove_files(self.session.layout, [path])

    def _delete_row(self, attachment_id: str) -> str:
        row = self._row(attachment_id)
        with self.session.writing("remove an attachment") as tx:
            mark_for_removal(self.session.layout, [row.storage_path])
            Attachment.delete().where(Attachment.id == attachment_id).execute()
            self._refresh_record_text(row.record_id)
            tx.record("attachment.delete", attachment_id, {
                "record_id": [row.record_id, None], "size": [row.size, None]})
        return row.storage_path

    # -- helpers --------------------------------------------------------------------

    @staticmethod
    def _refresh_record_text(record_id: str) -> None:
        """The record's searchable attachment text: all of its attachments', joined."""
        texts = [a.extracted_text for a in Attachment.select(Attachment.extracted_text)
                 .where(Attachment.record == record_id, Attachment.extracted_text.is_null(False))
                 .order_by(Attachment.created_at)]
        (MedicalRecord.update(extracted_text="\n\n".join(texts) or None)
         .where(MedicalRecord.id == record_id).execute())

    @staticmethod
    def _record_row(record_id: str) -> MedicalRecord:
        row = MedicalRecord.get_or_none(MedicalRecord.id == record_id)
        if row is None:
            raise NotFound("That record no longer exists.")
        return row

    @staticmethod
    def _row(attachment_id: str) -> Attachment:
        row = Attachment.get_or_none(Attachment.id == attachment_id)
        if row is None:
            raise NotFound("That attachment no longer exists.")
        return row



# -- moving files through a JSON export -------------------------------------------------


def exported_content(session: VaultSession, attachment_id: str, record_id: str,
                     storage: str, sha256: str) -> str:
    """An attachment's file for a JSON export: its plaintext, base64, checksum checked
    (DB thread: the export reads inside its snapshot)."""
    import base64

    data = b"".join(attachment_files.read_chunks(
        session.layout.home / storage, session.keys.attachments, attachment_id, record_id))
    if hashlib.sha256(data).hexdigest() != sha256:
        raise AttachmentDamaged(f"The attachment {attachment_id[:8]} does not match its "
                                "checksum, so the export stopped. Remove or restore it first.")
    return base64.b64encode(data).decode("ascii")


def import_content(session: VaultSession, values: dict[str, object], content: object
                   ) -> Path | None:
    """Encrypt an imported attachment's file into this vault, under this vault's key.
    Returns the file written (for the caller to remove if the import fails), or None
    when this vault already holds that very file."""
    import base64
    import binascii
    import io
    import uuid

    attachment_id, record_id = str(values.get("id")), str(values.get("record_id"))
    try:
        canonical = str(uuid.UUID(attachment_id)) == attachment_id
    except ValueError:
        canonical = False
    name = str(values.get("file_name") or "")
    if not canonical or Path(name).name != name or name in ("", ".", "..") or any(
            c in name for c in "/\\\0"):
        # The id names a file in the vault folder and the name one in a copy's folder:
        # neither may point anywhere else.
        raise ValidationError(f"The export's attachment {attachment_id[:12]!r} has an id or "
                              "file name Luna won't use.")
    if not isinstance(content, str):
        raise ValidationError(f"The export's attachment {attachment_id[:8]} has no file in it.")
    try:
        data = base64.b64decode(content, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError(f"The export's attachment {attachment_id[:8]} is damaged.") from None
    if hashlib.sha256(data).hexdigest() != values.get("sha256") or len(data) != values.get(
            "size"):
        raise ValidationError(f"The export's attachment {attachment_id[:8]} does not match its "
                              "checksum.")
    relative = attachment_files.storage_path(attachment_id)
    values["storage_path"] = relative
    existing = Attachment.get_or_none(Attachment.id == attachment_id)
    destination = session.layout.home / relative
    if existing is not None:
        if existing.sha256 != values["sha256"] or existing.record_id != record_id:
            raise ValidationError(f"The export's attachment {attachment_id[:8]} is not the "
                                  "file this vault holds under that id; nothing was imported.")
        if destination.exists():
            return None  # the very same file, already here
    destination.unlink(missing_ok=True)  # a leftover no row owns
    # Settled at the next opening: the import's transaction decides whether a row owns it.
    attachment_markers.mark(session.layout, attachment_id)
    attachment_files.seal_file(io.BytesIO(data), destination, session.keys.attachments,
                               attachment_id, record_id, max_size=len(data))
    return destination
