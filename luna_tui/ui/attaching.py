"""Attaching files to a record from the app, shared by the record form (files named
while adding a record) and the file picker: one file at a time, encrypted in a thread
with its progress shown, and every file that can't be attached said with its reason.
A failure never undoes the files attached before it, nor the record."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from luna_tui.errors import LunaError
from luna_tui.services.attachments import Attachments
from luna_tui.ui.messages import StillBusy, WorkProgress
from luna_tui.ui.vault_calls import ServiceFailed

if TYPE_CHECKING:
    from textual.message_pump import MessagePump

    from luna_tui.services.records import AttachmentView
    from luna_tui.ui.vault_calls import VaultCalls


@dataclass
class Outcome:
    attached: list[AttachmentView] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (path, why)
    session: object = None  # the vault session they were attached in

    def still_open(self, vault: VaultCalls) -> bool:
        """False once the vault was locked meanwhile: nothing of it may be shown then
        (file names on the unlock screen would say what the vault holds)."""
        return vault.session is not None and vault.session is self.session


async def attach_files(vault: VaultCalls, record_id: str, paths: list[str],
                       screen: MessagePump) -> Outcome:
    """Attach `paths` in turn; call from a worker (the encryption runs in a thread).
    `screen` gets a WorkProgress message as each file moves on."""
    outcome = Outcome(session=vault.session)
    for number, path in enumerate(paths, start=1):
        session = vault.session
        if session is None:
            break  # locked meanwhile: nothing more may happen
        what = f"Encrypting {Path(path).name}" + (
            f" ({number} of {len(paths)})" if len(paths) > 1 else "")
        screen.post_message(WorkProgress(what, 0.0))
        try:
            outcome.attached.append(await vault.attempt(
                Attachments(session).add, record_id, path,
                progress=_reporter(screen, what)))
        except (LunaError, ServiceFailed) as error:
            outcome.failed.append((path, str(error)))
        except Exception as error:  # noqa: BLE001 - a bug must not lose the other files
            outcome.failed.append((path, f"Luna could not attach it ({type(error).__name__})."))
    return outcome


def _reporter(screen: MessagePump, what: str) -> Callable[[int, int], None]:
    """A progress callback for the encrypting thread that reports only per whole percent
    (messages are safe to post from a thread)."""
    last = [-1]

    def progress(done: int, total: int) -> None:
        percent = 100 if total <= 0 else done * 100 // total
        if percent != last[0]:
            last[0] = percent
            screen.post_message(StillBusy())  # encrypting a big file is not being idle
            screen.post_message(WorkProgress(what, percent / 100))

    return progress


def tell(vault: VaultCalls, outcome: Outcome) -> None:
    """A notification for what was attached, and one per file that wasn't, saying why."""
    if not outcome.still_open(vault):
        return
    count = len(outcome.attached)
    if count:
        names = ", ".join(a.file_name for a in outcome.attached[:3])
        more = f" and {count - 3} more" if count > 3 else ""
        vault.notify(f"Attached {names}{more} (encrypted in the vault).")
    for path, why in outcome.failed:
        vault.notify(f"{Path(path).name or path} was not attached. {why}", severity="error",
                   timeout=15)
