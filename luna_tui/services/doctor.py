"""`luna doctor`: is the vault whole, and has anyone changed it behind Luna's back?

Runs SQLite's integrity_check on every database, foreign_key_check on luna.db, checks
each keys.db row against its checksum, walks the audit chain through every month,
decrypts every attachment against its checksum and looks for attachment files no
record owns, and checks that every file is 0600 and every folder 0700.
"""

from __future__ import annotations

import sqlite3
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from luna_tui.home import PRIVATE_DIR_MODE, PRIVATE_FILE_MODE, VaultLayout
from luna_tui.services.vault_session import VaultSession
from luna_tui.vault.key_manager import UnlockedKey

MAX_DETAILS = 5


@dataclass(frozen=True)
class Finding:
    check: str
    ok: bool
    detail: str


def run_checks(session: VaultSession) -> list[Finding]:
    findings = [check_keys_file(session.layout, session.key)]
    findings += session.run(_database_checks, session)
    findings.append(session.run(_audit_chain_check, session))
    findings.append(check_attachments(session))
    findings.append(check_permissions(session.layout))
    return findings


def check_keys_file(layout: VaultLayout, unlocked: UnlockedKey) -> Finding:
    """The file's own integrity, then every row judged as `luna keys list` judges it."""
    from luna_tui.errors import LunaError
    from luna_tui.vault.key_manager import KeyManager

    try:
        conn = sqlite3.connect(f"file:{layout.keys_db}?mode=ro", uri=True)
        try:
            result = [r[0] for r in conn.execute("PRAGMA integrity_check")]
        finally:
            conn.close()
        if result != ["ok"]:
            return Finding("keys.db", False, "; ".join(result[:MAX_DETAILS]))
        verdicts = KeyManager(layout).judge_rows(unlocked)
    except (LunaError, sqlite3.Error) as exc:
        return Finding("keys.db", False, str(exc))
    bad = [v for v in verdicts if not v.intact]
    if bad:
        return Finding("keys.db", False, "; ".join(
            f"{v.name} ({v.row.kind}, {v.row.role}) {v.problem}" for v in bad[:MAX_DETAILS]))
    return Finding("keys.db", True, f"{len(verdicts)} keys, all intact")


def _database_checks(session: VaultSession) -> list[Finding]:
    from luna_tui.store.models.base import database

    findings = []
    for schema, name in (("main", "luna.db"), ("stats", "stats.db")):
        findings.append(_integrity(name, lambda s=schema: [
            r[0] for r in database.execute_sql(f"PRAGMA {s}.integrity_check")
        ]))
    problems = database.execute_sql("PRAGMA main.foreign_key_check").fetchall()
    findings.append(
        Finding("foreign keys", not problems,
                "every reference resolves" if not problems else
                "; ".join(f"{t} row {rowid} points at a missing {parent}"
                          for t, rowid, parent, _ in problems[:MAX_DETAILS]))
    )
    for month in session.layout.audit_months():
        path = session.layout.audit_db(month)
        findings.append(_integrity(f"audit/{month}.db",
                                   lambda p=path: _file_integrity(p, session.keys.audit_db)))
    return findings


def _integrity(name: str, run) -> Finding:  # noqa: ANN001 - a small local callable
    from luna_tui.store.sqlite_errors import is_database_error

    try:
        result = run()
    except Exception as exc:  # noqa: BLE001
        if not is_database_error(exc):
            raise
        return Finding(name, False, f"can't be read: {exc}")
    if result == ["ok"]:
        return Finding(name, True, "integrity check passed")
    return Finding(name, False, "; ".join(result[:MAX_DETAILS]))


def _file_integrity(path: Path, key: bytes) -> list[str]:
    from sqlcipher3 import dbapi2 as sqlcipher

    from luna_tui.store.connection import raw_key_literal

    conn = sqlcipher.connect(str(path), isolation_level=None)
    try:
        conn.execute("PRAGMA cipher_log_level = NONE")
        conn.execute(f'PRAGMA key = "{raw_key_literal(key)}"')
        return [r[0] for r in conn.execute("PRAGMA integrity_check")]
    finally:
        conn.close()


def audit_report(session: VaultSession):  # noqa: ANN201 - a ChainReport
    """Walk the whole audit chain (DB thread): the month files, then luna.db's outbox."""
    from luna_tui.store.audit_chain import MISSING_MONTH, read_chain_inputs, verify_chain
    from luna_tui.store.models.base import database
    from luna_tui.store.models.vault_state import AuditHead

    chain = session.audit_chain
    inputs = read_chain_inputs(lambda sql: database.execute_sql(sql).fetchall())
    layout = session.layout
    files = [(m, layout.audit_db(m)) for m in layout.audit_months()]
    explained = {}
    if chain.first_row_after_missing_month is not None:
        explained[chain.first_row_after_missing_month] = MISSING_MONTH
    return verify_chain(files, session.keys.audit_db, session.keys.audit_mac, inputs,
                        current_head_seq=lambda: AuditHead.get_by_id(1).seq,
                        explained=explained)


def _audit_chain_check(session: VaultSession) -> Finding:
    from luna_tui.store.audit_chain import explained_gap_sentence

    report = audit_report(session)
    if report.problem:
        return Finding("audit chain", False, report.problem)
    if report.explained:
        sentences = [explained_gap_sentence(e) for e in report.explained[:MAX_DETAILS]]
        return Finding("audit chain", False, " ".join(sentences) + " Run `luna doctor --repair`"
                       " to re-anchor the chain there (the repair is recorded in the log).")
    detail = f"{report.rows} rows in {report.months} month(s), every link holds"
    if report.anchored:
        where = ", ".join(f"row {gap.missing_from}" for gap in report.anchored[:MAX_DETAILS])
        detail += f" (re-anchored after a gap at {where}, as recorded in the log)"
    return Finding("audit chain", True, detail)


def check_attachments(session: VaultSession) -> Finding:
    """Every attachment decrypts to what was attached; no file lies there unowned."""
    from luna_tui.errors import AttachmentDamaged
    from luna_tui.services.attachments import Attachments
    from luna_tui.store.models.records import Attachment

    rows = session.run(lambda: list(Attachment.select(
        Attachment.id, Attachment.file_name, Attachment.storage_path).tuples()))
    problems = []
    for attachment_id, file_name, _ in rows:
        try:
            Attachments(session).verify(attachment_id)
        except AttachmentDamaged as error:
            state = "missing" if "missing" in str(error) else "changed or damaged"
            problems.append(f"{file_name} ({attachment_id[:8]}) is {state}")
    orphans = orphan_files(session.layout, lambda: session.run(_owned_paths))
    if orphans:
        shown = ", ".join(orphans[:MAX_DETAILS])
        more = f" and {len(orphans) - MAX_DETAILS} more" if len(orphans) > MAX_DETAILS else ""
        problems.append(
            f"{len(orphans)} file(s) belong to no record ({shown}{more}), left by an "
            "interrupted attach or delete; they are encrypted, and `luna doctor --repair` "
            "removes them")
    if problems:
        return Finding("attachments", False, "; ".join(problems[:MAX_DETAILS]))
    return Finding("attachments", True,
                   f"{len(rows)} file(s), each decrypts to the file that was attached")


def orphan_files(layout: VaultLayout, owned: Callable[[], set[str]]) -> list[str]:
    """Files under attachments/ that no row owns, relative to LUNA_HOME. Files of
    attachments marked as under way are not among them: another Luna may be writing
    them right now, and the next opening settles them if not.

    The order matters while another Luna attaches: the files are listed first, then the
    markers (an attach marks before it writes), then the rows (`owned()`, read last: a
    row committed meanwhile still counts)."""
    from luna_tui.store.attachment_markers import PENDING_FOLDER, marked

    root = layout.attachments_dir
    if not root.is_dir():
        return []
    on_disk = [p for p in root.rglob("*")
               if p.is_file() and p.relative_to(layout.home).parts[1] != PENDING_FOLDER]
    busy = set(marked(layout))
    rows = owned()
    found = []
    for path in on_disk:
        relative = str(path.relative_to(layout.home))
        attachment_id = path.name.removeprefix(".").removesuffix(".part")
        if relative not in rows and attachment_id not in busy:
            found.append(relative)
    return sorted(found)


def repair(session: VaultSession) -> list[str]:
    """`luna doctor --repair`: mend what a crash (or a lost file) explains, each step in
    the audit log; never anything a person wrote. Returns what was done, in sentences."""
    session.require_writable("repair the vault")
    return session.run(_reanchor_explained_gaps, session) + session.run(_remove_orphans,
                                                                         session)


def _reanchor_explained_gaps(session: VaultSession) -> list[str]:
    """Let the chain resume after each gap whose cause is known (store/audit_chain.py).
    If the chain also shows a gap or change nothing explains, nothing is re-anchored:
    that needs a backup, not a repair."""
    from luna_tui.store.audit_chain import MISSING_MONTH

    done: list[str] = []
    # The walk runs under the write lock: a second repair waits, then finds it done.
    with session.writing("repair the audit log") as tx:
        report = audit_report(session)
        gaps = [e for e in report.explained if e.gap.resume_seq is not None]
        if report.problem:
            gaps = []
        for explained in gaps:
            gap = explained.gap
            session.audit_chain.anchor(gap, explained.reason)
            tx.record("audit.reanchored", diff={
                "after_row": gap.missing_from - 1, "missing_rows": gap.count,
                "resume_row": gap.resume_seq, "cause": explained.reason})
            cause = ("its month file was missing" if explained.reason == MISSING_MONTH
                     else "lost in a crash of an older Luna")
            done.append(f"Re-anchored the audit chain at row {gap.resume_seq}: "
                        f"{gap.rows_text()} gone ({cause}); the repair is in the log.")
    return done


def _owned_paths() -> set[str]:
    from luna_tui.store.models.records import Attachment

    return {a.storage_path for a in Attachment.select(Attachment.storage_path)}


def _remove_orphans(session: VaultSession) -> list[str]:
    """DB thread. The rows are read inside the write transaction, so an attach another
    Luna commits meanwhile is either seen or waits; the files go after the audit row."""
    with session.writing("remove files no record owns") as tx:
        orphans = orphan_files(session.layout, _owned_paths)
        if orphans:
            tx.record("attachments.tidied", diff={
                "removed": [Path(p).name for p in orphans],
                "why": "a file no record owns, left by an interrupted attach or delete"})
    if not orphans:
        return []
    for relative in orphans:  # after the record of it: a crash here leaves them for next time
        (session.layout.home / relative).unlink(missing_ok=True)
    return [f"Removed {len(orphans)} attachment file(s) no record owned."]


def check_permissions(layout: VaultLayout) -> Finding:
    loose = []
    for path in [layout.home, *sorted(layout.home.rglob("*"))]:
        try:
            mode = stat.S_IMODE(path.lstat().st_mode)
        except OSError:
            continue
        wanted = PRIVATE_DIR_MODE if path.is_dir() else PRIVATE_FILE_MODE
        if mode & ~wanted & 0o777:
            loose.append(f"{path.relative_to(layout.home.parent)} is {mode:o}")
    if loose:
        more = f" (and {len(loose) - MAX_DETAILS} more)" if len(loose) > MAX_DETAILS else ""
        return Finding(
            "permissions", False,
            "others can read: " + ", ".join(loose[:MAX_DETAILS]) + more
            + f". Fix with: chmod -R go-rwx {layout.home}",
        )
    return Finding("permissions", True, "files 0600, folders 0700")
