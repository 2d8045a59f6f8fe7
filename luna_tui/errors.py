"""Errors a person can hit, each with one sentence and an exit code.

Every layer raises these; the edges (the CLI's `main`, the app's notifications) catch
`LunaError` once and show `str(error)`. Nothing here may contain a secret: messages are
shown on screen and may be pasted into bug reports.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_KEY = 3  # wrong passphrase, expired or revoked key, a key without the right
EXIT_CORRUPT = 4  # a damaged vault or a failed integrity check
EXIT_BUSY = 5  # another Luna process holds the vault longer than the busy timeout
EXIT_DISK_FULL = 6  # no room left on the vault's disk (or another one Luna writes to)


class LunaError(Exception):
    """Base of every error meant for the user; `str()` is the sentence to show."""

    exit_code = EXIT_ERROR

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class UsageError(LunaError):
    exit_code = EXIT_USAGE


class ValidationError(LunaError):
    """Bad input to a form or command: a bad date, a blank name, an impossible value."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class ImportRejected(ValidationError):
    """A file to import that Luna refuses: too big, too deep, not JSON, or a field that
    breaks the schema. One sentence naming the field and the entry; nothing of the
    file was written (it is the file's fault, never the vault's)."""


class FutureEntry(ValidationError):
    """A journal entry dated after now, not asked for: an entry is about what happened,
    so `tomorrow` or `3000-01-01` is more often a slip than a plan. The app asks; the
    shell wants --future."""

    def __init__(self, message: str, day: str, time: str) -> None:
        super().__init__(message, "entry_date")
        self.day, self.time = day, time


class NotFound(LunaError):
    pass


class WeakPassphrase(LunaError):
    pass


class WrongPassphrase(LunaError):
    exit_code = EXIT_KEY


class KeyExpired(LunaError):
    exit_code = EXIT_KEY


class ReadOnlyKey(LunaError):
    exit_code = EXIT_KEY


class KdfTooHeavy(LunaError):
    """Key-derivation settings above Luna's portable ceiling: refused before any work,
    unless the person allows heavier settings for their own vault."""

    exit_code = EXIT_KEY


class KeyRefused(LunaError):
    """A key operation the key manager will not do (revoke the last owner key, ...)."""

    exit_code = EXIT_KEY


class KeyChangeNotAudited(LunaError):
    """keys.db changed but the audit row could not be committed after it.

    The two files can't share one transaction, so this is said rather than hidden.
    `new_secret` is a generated key (recovery or access key) that already works and
    must still be shown to the person once.
    """

    def __init__(self, message: str, new_secret: str | None = None) -> None:
        super().__init__(message)
        self.new_secret = new_secret


class VaultMadeNotOpened(LunaError):
    """A new vault was made, then could not be opened (a disk that filled up just then).
    Its recovery key exists only here and must still be shown, once."""

    def __init__(self, message: str, cause: LunaError, recovery_key: str, kdf: object) -> None:
        super().__init__(message)
        self.exit_code = cause.exit_code
        self.recovery_key = recovery_key
        self.kdf = kdf

    def __repr__(self) -> str:
        return f"VaultMadeNotOpened({self.message!r}, recovery_key=<redacted>)"


class VaultMissing(LunaError):
    pass


class VaultExists(LunaError):
    pass


class VaultCorrupt(LunaError):
    exit_code = EXIT_CORRUPT


class IntegrityFailure(LunaError):
    exit_code = EXIT_CORRUPT


class VaultBusy(LunaError):
    exit_code = EXIT_BUSY

    def __init__(self, message: str | None = None) -> None:
        super().__init__(
            message
            or "The vault is busy in another Luna process; nothing was changed. "
            "Try again in a moment."
        )


class DiskFull(LunaError):
    """No space left: never damage, and never a reason to restore from a backup."""

    exit_code = EXIT_DISK_FULL

    def __init__(self, message: str | None = None) -> None:
        super().__init__(
            message or "The disk is full, so Luna stopped: nothing was saved or changed. Free "
            "some space and try again; your vault is unharmed."
        )


class ReadOnlyLocation(LunaError):
    pass


class AttachmentDamaged(LunaError):
    """An attachment's encrypted file was changed, cut short or lost on disk."""

    exit_code = EXIT_CORRUPT


class BackupDamaged(LunaError):
    """A backup file that is truncated, changed or not a Luna backup at all."""

    exit_code = EXIT_CORRUPT


class BackupTooNew(LunaError):
    """A backup made by a newer Luna than this one (a format or schema it doesn't know)."""

    exit_code = EXIT_CORRUPT


class BackupOfAnotherVault(LunaError):
    """Restoring one vault's backup over a different vault would lose that vault."""


class SyncFileRefused(LunaError):
    """A change file in the sync folder that was changed, cut short, renamed or replayed:
    refused whole; nothing more is applied from its device until it is whole again."""

    exit_code = EXIT_CORRUPT


class NotSynced(LunaError):
    """Sync has not been set up for this vault (`luna sync setup FOLDER` first)."""


class SyncTooNew(LunaError):
    """A change file written by a newer Luna (a schema this one doesn't know)."""


class AiError(LunaError):
    """The AI model could not answer; what was typed is kept, the sentence says why."""

    reason = "error"  # a short, stable word for the audit log and stats


class AiRemoteRefused(AiError):
    """A non-loopback endpoint without the opt-in: health data would leave the machine."""

    reason = "remote_refused"


class AiUnreachable(AiError):
    reason = "unreachable"


class AiTimeout(AiError):
    reason = "timeout"


class AiKeyRejected(AiError):
    reason = "key_rejected"


class AiRateLimited(AiError):
    reason = "rate_limited"


class AiServerError(AiError):
    reason = "server_error"


class AiBadResponse(AiError):
    """A stream that is not the protocol (malformed JSON, an unexpected status)."""

    reason = "malformed"


class AiStreamCut(AiError):
    """The stream ended before the model said it had finished."""

    reason = "cut_off"


class ReadOnlyViolation(LunaError):
    """Code running under the read-only guard tried to change the vault; it was stopped."""


class DoseTooEarly(ValidationError):
    """A dose logged as taken before its window opens: the app asks, the shell needs
    --early (or a yes at the prompt)."""

    def __init__(self, message: str, slot: str) -> None:
        super().__init__(message, "at")
        self.slot = slot
