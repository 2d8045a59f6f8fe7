"""The key manager through the services: unlock, passwd, read-only and expired keys,
revocation, and what a damaged or edited keys.db does."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import os
import unicodedata
from dataclasses import replace

import pytest

from conftest import OTHER_PASSPHRASE, PASSPHRASE, cheap_kdf
from helpers import keys_db_rows, update_key_row
from luna_tui.errors import (
    KdfTooHeavy,
    KeyExpired,
    KeyRefused,
    ReadOnlyKey,
    VaultCorrupt,
    VaultMissing,
    WrongPassphrase,
)
from luna_tui.services.key_admin import KeyAdmin
from luna_tui.services.vault_session import VaultSession
from luna_tui.services.vault_setup import create_vault
from luna_tui.store.models.audit import AuditEvent
from luna_tui.vault import kdf, keystore
from luna_tui.vault.generated_keys import grouped
from luna_tui.vault.kdf import PORTABLE_CEILING, KdfParams
from luna_tui.vault.keystore import KeyRow


def open_with(layout, secret, clock=None) -> VaultSession:
    return VaultSession.open(layout, secret, clock=clock)


def owner_row(layout) -> dict:
    return next(r for r in keys_db_rows(layout.keys_db) if r["kind"] == "passphrase")


def audit_events(session) -> list[str]:
    return session.run(lambda: [e.event_name for e in AuditEvent.select().order_by(AuditEvent.seq)])


# -- unlocking -----------------------------------------------------------------------


def test_a_new_vault_unlocks_with_its_passphrase_and_its_recovery_key(layout, new_vault):
    new_vault.session.close()
    with open_with(layout, PASSPHRASE) as session:
        assert session.key.role == "owner" and session.key.kind == "passphrase"
        assert not session.read_only
    spoken = grouped(new_vault.recovery_key).lower().replace(" ", "-")
    with open_with(layout, spoken) as session:
        assert session.key.kind == "recovery" and session.key.role == "owner"


def test_a_wrong_passphrase_is_refused_and_recorded_at_the_next_unlock(layout, new_vault):
    new_vault.session.close()
    with pytest.raises(WrongPassphrase, match="Wrong passphrase"):
        open_with(layout, "not the passphrase at all")
    with open_with(layout, PASSPHRASE) as session:
        assert len(session.failed_unlocks) == 1
        assert audit_events(session)[-2:] == ["unlock.failed", "unlock"]
    with open_with(layout, PASSPHRASE) as session:
        assert session.failed_unlocks == []


def test_a_recovery_key_with_a_typo_says_so(layout, new_vault):
    new_vault.session.close()
    key = new_vault.recovery_key
    typo = key[:3] + ("A" if key[3] != "A" else "B") + key[4:]
    with pytest.raises(WrongPassphrase, match="typo"):
        open_with(layout, typo)


def test_nfc_and_nfd_forms_of_a_passphrase_open_the_same_vault(layout, clock):
    composed = "crème brûlée à la façon de grand-mère"
    created = create_vault(layout, unicodedata.normalize("NFD", composed), kdf=cheap_kdf(),
                           clock=clock)
    created.session.close()
    with open_with(layout, composed) as session:
        assert session.key.label == "owner"
    with open_with(layout, unicodedata.normalize("NFD", composed)):
        pass


def test_no_vault_says_how_to_make_one(layout):
    with pytest.raises(VaultMissing, match="luna init"):
        open_with(layout, PASSPHRASE)


# -- keys.db damaged or edited ------------------------------------------------------


def _flip(value):
    if isinstance(value, bytes):
        return bytes([value[0] ^ 0x01]) + value[1:]
    if value is None:
        return "2099-01-01"
    text = str(value)
    middle = len(text) // 2
    return text[:middle] + chr(ord(text[middle]) ^ 0x01) + text[middle + 1 :]


@pytest.mark.parametrize(
    "column",
    ["key_locator_hash", "display_name", "database_id_hash", "kind", "kdf",
     "wrapped_master_key", "acl", "expiry_date", "created_at", "updated_at", "last_used_at",
     "checksum"],
)
def test_a_bit_flipped_in_any_field_of_a_key_row_reads_as_damage_not_a_wrong_passphrase(
    layout, new_vault, column
):
    new_vault.session.close()
    with open_with(layout, PASSPHRASE):
        pass  # so last_used_at is set
    row = owner_row(layout)
    update_key_row(layout.keys_db, row["key_locator_hash"], **{column: _flip(row[column])})
    with pytest.raises(VaultCorrupt, match="damaged"):
        open_with(layout, PASSPHRASE)


def _rewrite_with_checksum(layout, locator, **changes):
    """Edit a row the way an attacker would: change fields, fix up the checksum."""
    rows = {r.key_locator_hash: r for r in keystore.read(layout.keys_db).rows}
    from dataclasses import replace

    edited = replace(rows[locator], **changes).sealed()
    update_key_row(layout.keys_db, locator,
                   **{k: v for k, v in edited.__dict__.items() if k != "key_locator_hash"})


@pytest.mark.dates
def test_editing_role_expiry_or_kdf_in_keys_db_makes_unlock_fail(layout, session, clock):
    added = KeyAdmin(session).add_key("caregiver", read_only=True, passphrase=OTHER_PASSPHRASE,
                                      expiry=clock.today() + dt.timedelta(days=39))
    session.close()
    locator = added.info.locator
    original = {r.key_locator_hash: r for r in keystore.read(layout.keys_db).rows}[locator]
    kdf = json.loads(original.kdf)
    for changes in (
        {"acl": json.dumps({"role": "owner"}, separators=(",", ":"))},  # escalate
        {"expiry_date": "2099-12-31"},  # extend
        {"expiry_date": None},
        {"kdf": json.dumps({**kdf, "t": kdf["t"] + 1}, sort_keys=True, separators=(",", ":"))},
        {"created_at": "2020-01-01T00:00:00.000Z"},
    ):
        _rewrite_with_checksum(layout, locator, **changes)
        with pytest.raises(WrongPassphrase):
            open_with(layout, OTHER_PASSPHRASE, clock=clock)
        _rewrite_with_checksum(layout, locator, **{k: getattr(original, k) for k in changes})
    with open_with(layout, OTHER_PASSPHRASE, clock=clock) as reopened:
        assert reopened.read_only


def test_a_key_row_from_another_vault_does_not_open_this_one(layout, tmp_path, clock):
    from luna_tui.home import VaultLayout

    create_vault(layout, PASSPHRASE, kdf=cheap_kdf(), clock=clock).session.close()
    other = VaultLayout(tmp_path / "other")
    create_vault(other, OTHER_PASSPHRASE, kdf=cheap_kdf(), clock=clock).session.close()
    foreign = owner_row(other)
    foreign["database_id_hash"] = owner_row(layout)["database_id_hash"]
    row = keystore.KeyRow(**{k: foreign[k] for k in foreign}).sealed()
    keystore.insert_key(layout.keys_db, row)
    with pytest.raises(WrongPassphrase):
        open_with(layout, OTHER_PASSPHRASE)


def test_absurd_kdf_parameters_are_refused_before_argon2_runs(layout, new_vault, monkeypatch):
    new_vault.session.close()
    row = owner_row(layout)
    kdf = json.loads(row["kdf"])
    kdf["m"] = 2**40
    _rewrite_with_checksum(layout, row["key_locator_hash"],
                           kdf=json.dumps(kdf, sort_keys=True, separators=(",", ":")))

    def argon2_must_not_run(*args, **kwargs):
        raise AssertionError("Argon2 ran with absurd parameters")

    monkeypatch.setattr("argon2.low_level.hash_secret_raw", argon2_must_not_run)
    with pytest.raises(VaultCorrupt):
        open_with(layout, PASSPHRASE)


def _must_not_derive(*args, **kwargs):
    raise AssertionError("a key derivation ran for a row above the ceiling")


def test_a_key_row_above_the_portable_ceiling_is_refused_before_any_derivation(
        layout, new_vault, monkeypatch):
    """m = 2 GiB, t = 200, p = 16: within what Argon2 can run, but minutes of work at 2 GiB.
    Refused in words, and quickly: the derivation is never started."""
    new_vault.session.close()
    for row in keys_db_rows(layout.keys_db):
        kdf = json.loads(row["kdf"]) | {"m": 2 * 1024 * 1024, "t": 200, "p": 16}
        _rewrite_with_checksum(layout, row["key_locator_hash"],
                               kdf=json.dumps(kdf, sort_keys=True, separators=(",", ":")))
    monkeypatch.setattr("luna_tui.vault.key_manager.derive_key", _must_not_derive)
    monkeypatch.setattr("luna_tui.vault.kdf.derive_key", _must_not_derive)
    for secret in (PASSPHRASE, new_vault.recovery_key):
        with pytest.raises(KdfTooHeavy, match="LUNA_ALLOW_HEAVY_KDF=1") as refused:
            open_with(layout, secret)
        assert "2,097,152 KiB of memory" in str(refused.value)


def test_a_vault_made_heavier_on_purpose_opens_when_its_person_allows_it(layout, clock,
                                                                          monkeypatch):
    heavy = KdfParams(8, 300, 1, os.urandom(16))  # above the ceiling in passes, cheap to run
    with pytest.raises(KdfTooHeavy):
        create_vault(layout, PASSPHRASE, kdf=heavy, clock=clock)
    assert not layout.exists()
    create_vault(layout, PASSPHRASE, kdf=heavy, clock=clock, allow_heavy_kdf=True).session.close()
    with pytest.raises(KdfTooHeavy, match="300 passes"):
        open_with(layout, PASSPHRASE)
    monkeypatch.setenv("LUNA_ALLOW_HEAVY_KDF", "1")
    with open_with(layout, PASSPHRASE) as session:
        assert session.key.role == "owner"


def test_a_heavy_row_does_not_stand_in_the_way_of_a_light_one(layout, session, monkeypatch):
    """A hostile row added beside the owner's costs nothing when the owner unlocks."""
    added = KeyAdmin(session).add_key("caregiver", read_only=True, passphrase=OTHER_PASSPHRASE)
    session.close()
    row = next(r for r in keys_db_rows(layout.keys_db)
               if r["key_locator_hash"] == added.info.locator)
    kdf = json.loads(row["kdf"]) | {"m": 2 * 1024 * 1024, "t": 200, "p": 16}
    _rewrite_with_checksum(layout, added.info.locator, acl=json.dumps({"role": "owner"}),
                           kdf=json.dumps(kdf, sort_keys=True, separators=(",", ":")))
    with open_with(layout, PASSPHRASE) as owner:
        assert owner.key.label == "owner"


def _at_the_ceiling(row: KeyRow, **changes) -> KeyRow:
    """A copy of `row` under a new locator whose derivation is as heavy as the ceiling
    allows one row to be (64 MiB × 200 passes): each alone is fine."""
    kdf = json.loads(row.kdf) | {"m": 64 * 1024, "t": 200, "p": 1}
    return replace(row, key_locator_hash=os.urandom(32).hex(),
                   kdf=json.dumps(kdf, sort_keys=True, separators=(",", ":")), **changes)


def _counting_derivations(monkeypatch) -> list[KdfParams]:
    """Record every derivation the key manager starts; run only the cheap ones (a test
    must never pay for the ceiling), answering the others with a key that opens nothing."""
    started: list[KdfParams] = []
    real = kdf.derive_key

    def derive(secret, params, *, allow_heavy=False):
        started.append(params)
        return real(secret, params, allow_heavy=allow_heavy) if params.work < 1024 else (
            os.urandom(32))

    monkeypatch.setattr("luna_tui.vault.key_manager.derive_key", derive)
    return started


def test_many_key_rows_at_the_ceiling_cost_one_unlock_budget_in_all(layout, new_vault,
                                                                      monkeypatch):
    """Six hostile passphrase rows, each within the ceiling: a wrong passphrase must not
    cost six derivations at the ceiling (a minute), only the unlock's budget, and say so."""
    new_vault.session.close()
    owner = next(r for r in keystore.read(layout.keys_db).rows if r.kind == "passphrase")
    for _ in range(6):
        keystore.insert_key(layout.keys_db, _at_the_ceiling(owner))
    started = _counting_derivations(monkeypatch)
    with pytest.raises(KdfTooHeavy, match="more work than Luna spends on one unlock") as said:
        open_with(layout, "not the passphrase at all")
    assert sum(p.work for p in started) <= 2 * PORTABLE_CEILING.work
    assert "5 more keys" in str(said.value) and "LUNA_ALLOW_HEAVY_KDF=1" in str(said.value)
    started.clear()
    with open_with(layout, PASSPHRASE) as session:  # the owner's own row is tried first
        assert session.key.label == "owner"
    assert [p.work for p in started] == [8]


def test_a_hostile_row_posing_as_the_last_used_owner_key_does_not_go_first(layout, new_vault,
                                                                           monkeypatch):
    """A row's role and last use are in the clear: one claiming both, at the ceiling,
    would cost every unlock ten seconds before the owner's own row was tried."""
    new_vault.session.close()
    owner = next(r for r in keystore.read(layout.keys_db).rows if r.kind == "passphrase")
    keystore.insert_key(layout.keys_db, _at_the_ceiling(owner, last_used_at="2999-01-01"))
    started = _counting_derivations(monkeypatch)
    with open_with(layout, PASSPHRASE) as session:
        assert session.key.label == "owner"
    assert [p.work for p in started] == [8]


@pytest.mark.parametrize("vault_id, said", [
    (b"5b1f9a0e-0000-4000-8000-000000000000", "its vault_id is bytes, where Luna writes text"),
    ("caf\u00e9", "its vault_id is not a UUID"),
], ids=["bytes", "not-a-uuid"])
def test_a_vault_record_edited_to_an_odd_id_is_refused_in_words(layout, new_vault, vault_id,
                                                                said):
    """The vault's id is hashed as ASCII: one of another type, or not the UUID Luna
    makes, is an edited keys.db (its checksum recomputed), not a crash."""
    import sqlite3

    new_vault.session.close()
    edited = replace(keystore.read(layout.keys_db).vault, vault_id=vault_id).sealed()
    with sqlite3.connect(layout.keys_db) as conn:
        conn.execute("UPDATE vault SET vault_id = ?, checksum = ?", (vault_id, edited.checksum))
    conn.close()
    with pytest.raises(VaultCorrupt, match="vault record was edited outside Luna") as refused:
        open_with(layout, PASSPHRASE)
    assert said in str(refused.value)


@pytest.mark.parametrize("damage", ["zero-bytes", "truncated", "garbage"])
def test_a_damaged_keys_db_is_reported_as_damage(layout, new_vault, damage):
    new_vault.session.close()
    data = layout.keys_db.read_bytes()
    if damage == "zero-bytes":
        layout.keys_db.write_bytes(b"")
    elif damage == "truncated":
        layout.keys_db.write_bytes(data[: len(data) // 3])
    else:
        layout.keys_db.write_bytes(b"\x00\x01 not sqlite " * 100)
    with pytest.raises(VaultCorrupt):
        open_with(layout, PASSPHRASE)


def test_a_missing_keys_db_beside_the_databases_is_not_called_a_missing_vault(layout, new_vault):
    new_vault.session.close()
    layout.keys_db.unlink()
    with pytest.raises(VaultCorrupt, match="no keys.db"):
        open_with(layout, PASSPHRASE)


# -- passwd -----------------------------------------------------------------------


def test_passwd_rewraps_the_master_key_only(layout, session):
    before = keys_db_rows(layout.keys_db)
    vault_id = session.key.vault_id
    main_db_bytes = layout.main_db.stat().st_size
    KeyAdmin(session).change_passphrase(OTHER_PASSPHRASE)
    events = audit_events(session)
    session.close()
    assert events[-1] == "key.passwd"
    with pytest.raises(WrongPassphrase):
        open_with(layout, PASSPHRASE)
    with open_with(layout, OTHER_PASSPHRASE) as reopened:
        assert reopened.key.vault_id == vault_id
        assert "key.passwd" in audit_events(reopened)
    after = keys_db_rows(layout.keys_db)
    assert len(after) == len(before)
    changed = [a for a, b in zip(after, before, strict=True)
               if a["wrapped_master_key"] != b["wrapped_master_key"]]
    assert len(changed) == 1
    assert layout.main_db.stat().st_size >= main_db_bytes


def test_the_recovery_key_can_reset_a_forgotten_passphrase(layout, new_vault):
    new_vault.session.close()
    with open_with(layout, new_vault.recovery_key) as session:
        info = KeyAdmin(session).change_passphrase(OTHER_PASSPHRASE)
        assert info.label == "owner"
    with open_with(layout, OTHER_PASSPHRASE) as session:
        assert session.key.label == "owner"


def test_a_weak_new_passphrase_is_refused(session):
    from luna_tui.errors import WeakPassphrase

    with pytest.raises(WeakPassphrase):
        KeyAdmin(session).change_passphrase("password1")


def test_a_new_recovery_key_replaces_the_old_one(layout, new_vault):
    new_key = KeyAdmin(new_vault.session).replace_recovery_key()
    new_vault.session.close()
    with pytest.raises(WrongPassphrase):
        open_with(layout, new_vault.recovery_key)
    with open_with(layout, new_key) as session:
        assert session.key.kind == "recovery"


# -- read-only and expiring keys ---------------------------------------------------


def test_a_read_only_key_reads_but_every_change_is_refused(layout, session):
    added = KeyAdmin(session).add_key("caregiver", read_only=True)
    assert added.generated_secret
    session.close()
    with open_with(layout, added.generated_secret) as read_only:
        assert read_only.read_only and read_only.key.label == "caregiver"
        admin = KeyAdmin(read_only)
        assert len(admin.list_keys()) == 3
        with pytest.raises(ReadOnlyKey, match="read-only key 'caregiver'"):
            admin.add_key("mine", read_only=False, passphrase=OTHER_PASSPHRASE)
        with pytest.raises(ReadOnlyKey):
            admin.change_passphrase(OTHER_PASSPHRASE)
        with pytest.raises(ReadOnlyKey):
            admin.revoke("owner")
        with pytest.raises(ReadOnlyKey):
            read_only.require_writable("save an entry")
        assert audit_events(read_only)[-1] == "unlock"  # unlocks are audited all the same


@pytest.mark.dates
def test_an_expired_key_is_refused_with_its_date(layout, session, clock):
    """A key opens through its expiry date, local time, and not a minute after."""
    expiry = clock.today() + dt.timedelta(days=8)
    added = KeyAdmin(session).add_key("locum", read_only=True, passphrase=OTHER_PASSPHRASE,
                                      expiry=expiry)
    assert added.info.expiry_date == expiry.isoformat()
    session.close()
    with open_with(layout, OTHER_PASSPHRASE, clock=clock):
        pass
    clock.set_local(expiry, "23:59")
    with open_with(layout, OTHER_PASSPHRASE, clock=clock):
        pass
    clock.advance(minutes=1)
    with pytest.raises(KeyExpired, match=f"expired on {expiry.isoformat()}"):
        open_with(layout, OTHER_PASSPHRASE, clock=clock)
    with open_with(layout, PASSPHRASE, clock=clock) as owner:
        assert [f.reason for f in owner.failed_unlocks] == ["key expired"]


@pytest.mark.dates
def test_a_key_cannot_be_added_already_expired(session, clock):
    admin = KeyAdmin(session)
    with pytest.raises(KeyRefused, match="already past"):
        admin.add_key("late", read_only=True, expiry=clock.today() - dt.timedelta(days=1))
    assert admin.add_key("last day", read_only=True, expiry=clock.today()).info.expiry_date == (
        clock.today().isoformat())


@pytest.mark.dates
def test_a_key_with_no_expiry_never_expires(layout, session, clock):
    added = KeyAdmin(session).add_key("partner", read_only=True)
    session.close()
    clock.advance(days=3650)
    with open_with(layout, added.generated_secret, clock=clock) as reopened:
        assert reopened.key.expiry_date is None


# -- revoking and listing --------------------------------------------------------------


def test_a_revoked_key_no_longer_opens_the_vault(layout, session):
    added = KeyAdmin(session).add_key("caregiver", read_only=True)
    KeyAdmin(session).revoke("Caregiver")
    assert audit_events(session)[-1] == "key.revoke"
    session.close()
    with pytest.raises(WrongPassphrase):
        open_with(layout, added.generated_secret)
    assert all(r["kind"] != "access" for r in keys_db_rows(layout.keys_db))


def test_the_last_owner_passphrase_cannot_be_revoked(session):
    admin = KeyAdmin(session)
    with pytest.raises(KeyRefused, match="only owner passphrase"):
        admin.revoke("owner")
    admin.revoke("recovery key")
    with pytest.raises(KeyRefused, match="last key"):
        admin.revoke("owner")


def test_labels_are_unique_and_unknown_labels_are_named(session):
    admin = KeyAdmin(session)
    admin.add_key("caregiver", read_only=True)
    with pytest.raises(KeyRefused, match="already a key called"):
        admin.add_key("CAREGIVER", read_only=True)
    with pytest.raises(KeyRefused, match="no key called 'nurse'"):
        admin.revoke("nurse")


def test_key_labels_are_not_stored_in_the_clear(layout, session):
    KeyAdmin(session).add_key("Dr Rivera, psychiatrist", read_only=True)
    assert b"Rivera" not in layout.keys_db.read_bytes()
    labels = {k.label for k in KeyAdmin(session).list_keys()}
    assert labels == {"owner", "recovery key", "Dr Rivera, psychiatrist"}


def test_key_rows_hold_no_fast_verifier_of_a_passphrase(layout, new_vault):
    row = owner_row(layout)
    digest = hashlib.sha256(PASSPHRASE.encode()).hexdigest()
    assert digest not in json.dumps({k: (base64.b64encode(v).decode() if isinstance(v, bytes)
                                         else v) for k, v in row.items()})
    assert len(row["key_locator_hash"]) == 64


def test_a_row_wrapping_some_other_master_key_is_called_tampering(layout, new_vault, clock):
    """Anyone can read the vault id from keys.db and wrap a key of their own with the
    right AAD; the master-key check stops that key posing as this vault's."""
    import os

    from luna_tui.vault.key_manager import KeyManager

    new_vault.session.close()
    vault = keystore.read(layout.keys_db).vault
    impostor = KeyManager(layout, clock)._new_row(
        vault, os.urandom(32), "owner", "passphrase", "impostor", OTHER_PASSPHRASE,
        cheap_kdf(), None,
    )
    keystore.insert_key(layout.keys_db, impostor)
    with pytest.raises(VaultCorrupt, match="different vault"):
        open_with(layout, OTHER_PASSPHRASE)


def test_an_unlock_never_undoes_a_passphrase_change_made_meanwhile(layout, session):
    """Unlock reads a row, runs Argon2, then records last_used_at; a passwd committed in
    between must survive."""
    stale = next(r for r in keystore.read(layout.keys_db).rows if r.kind == "passphrase")
    KeyAdmin(session).change_passphrase(OTHER_PASSPHRASE)
    session.close()
    keystore.touch_last_used(layout.keys_db, stale, "2026-11-22T10:00:00.000Z")
    with pytest.raises(WrongPassphrase):
        open_with(layout, PASSPHRASE)
    with open_with(layout, OTHER_PASSPHRASE):
        pass


def test_a_key_change_whose_audit_row_fails_says_it_happened_and_shows_the_key(
        layout, session, monkeypatch):
    """keys.db commits before the audit row: if that row fails, the new key still works,
    and the person is told so and shown it rather than told that nothing changed."""
    from luna_tui.errors import DiskFull, KeyChangeNotAudited
    from luna_tui.services.vault_session import Recorder

    def full_disk(*args, **kwargs):
        raise DiskFull()

    monkeypatch.setattr(Recorder, "record", full_disk)
    with pytest.raises(KeyChangeNotAudited, match="change was made") as raised:
        KeyAdmin(session).replace_recovery_key()
    new_key = raised.value.new_secret
    assert new_key
    monkeypatch.undo()
    session.close()
    with open_with(layout, new_key) as reopened:
        assert reopened.key.kind == "recovery"


def test_a_refused_key_change_is_not_reported_as_made(session):
    with pytest.raises(KeyRefused):
        KeyAdmin(session).revoke("no such key")


def test_a_replaced_recovery_key_leaves_exactly_one(layout, session):
    KeyAdmin(session).replace_recovery_key()
    assert [r["kind"] for r in keys_db_rows(layout.keys_db)].count("recovery") == 1


def test_an_edited_role_can_not_be_laundered_by_the_owner(layout, session):
    """Someone without a key edits a caregiver's row into an owner's (fixing the checksum).
    The owner's tools show it altered and refuse to re-wrap it."""
    added = KeyAdmin(session).add_key("caregiver", read_only=True, passphrase=OTHER_PASSPHRASE)
    _rewrite_with_checksum(layout, added.info.locator,
                           acl=json.dumps({"role": "owner"}, separators=(",", ":")))
    keys = {k.locator: k for k in KeyAdmin(session).list_keys()}
    assert not keys[added.info.locator].intact
    assert keys[added.info.locator].label == "(altered key, made 2026-11-22)"
    with pytest.raises(KeyRefused, match="no key called 'caregiver'"):
        KeyAdmin(session).change_passphrase("brand new words for a key", label="caregiver")


def test_a_vault_folder_with_url_characters_in_its_name_works(tmp_path, clock):
    from luna_tui.home import VaultLayout

    odd = VaultLayout(tmp_path / "my #1 vault?%20")
    create_vault(odd, PASSPHRASE, kdf=cheap_kdf(), clock=clock).session.close()
    with open_with(odd, PASSPHRASE) as session:
        assert session.key.label == "owner"


def test_a_generated_key_is_not_changed_like_a_passphrase(session):
    with pytest.raises(KeyRefused, match="luna keys recovery"):
        KeyAdmin(session).change_passphrase(OTHER_PASSPHRASE, label="recovery key")
