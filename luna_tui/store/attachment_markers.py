"""Marks for attachments whose encrypted file and row may not agree yet.

Attaching writes the file and then the row; deleting removes the row and then the file.
A process killed in between leaves a file no record owns (or a `.part` half-file). So
before either starts, an empty marker `attachments/.pending/<attachment id>` is made,
and it goes once file and row agree again. When the vault next opens with no other Luna
process in it, every marker left is a dead process's: the opening session
(VaultSession._settle_interrupted) removes the file of any marked attachment that has no
row, and the marker, and says so in the audit log.

A marker holds nothing but the attachment's id (a random UUID) in its name.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterable
from pathlib import Path

from luna_tui.home import VaultLayout, ensure_private_dir, os_error_to_luna

PENDING_FOLDER = ".pending"


def _folder(layout: VaultLayout) -> Path:
    return layout.attachments_dir / PENDING_FOLDER


def mark(layout: VaultLayout, attachment_id: str) -> None:
    """Before the file or the row changes. Raises a LunaError (a full disk…) so the
    change never starts unmarked."""
    folder = _folder(layout)
    ensure_private_dir(layout.attachments_dir)
    ensure_private_dir(folder)
    path = folder / _checked(attachment_id)
    try:
        fd = os.open(path, os.O_CREAT | os.O_WRONLY | getattr(os, "O_NOFOLLOW", 0), 0o600)
    except OSError as exc:
        raise os_error_to_luna(exc, path) from exc
    os.close(fd)


def unmark(layout: VaultLayout, attachment_id: str) -> None:
    """Once file and row agree. A marker that won't go is settled at the next opening."""
    with contextlib.suppress(OSError, ValueError):
        (_folder(layout) / _checked(attachment_id)).unlink(missing_ok=True)


def marked(layout: VaultLayout) -> list[str]:
    """Every attachment id with a marker; names that aren't ids are not Luna's."""
    try:
        names = os.listdir(_folder(layout))
    except OSError:  # no folder: nothing was ever interrupted
        return []
    return sorted(name for name in names if _is_id(name))


def _checked(attachment_id: str) -> str:
    if not _is_id(attachment_id):
        raise ValueError(f"not an attachment id: {attachment_id!r}")
    return attachment_id


def _is_id(name: str) -> bool:
    try:
        return str(uuid.UUID(name)) == name
    except ValueError:
        return False


def mark_for_removal(layout: VaultLayout, storage_paths: Iterable[str]) -> None:
    """Inside a delete's transaction, before its rows go."""
    for relative in storage_paths:
        mark(layout, Path(relative).name)


def remove_files(layout: VaultLayout, storage_paths: Iterable[str]) -> None:
    """Remove attachments' encrypted files after their rows are gone, and their markers.
    A file that will not go keeps its marker, and goes at the next opening; the deletion
    itself stands. Only files inside attachments/ are ever removed, whatever a row says."""
    root = layout.attachments_dir.resolve()
    for relative in storage_paths:
        path = (layout.home / relative).resolve()
        if path.parent.parent != root:
            continue
        try:
            path.unlink(missing_ok=True)
            path.with_name(f".{path.name}.part").unlink(missing_ok=True)
        except OSError:
            continue
        unmark(layout, path.name)
