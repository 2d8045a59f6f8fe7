"""Argon2id parameters: the production floor, calibration, and validation."""

from __future__ import annotations

import json
import os

import pytest

from luna_tui.errors import KdfTooHeavy, VaultCorrupt
from luna_tui.vault import kdf
from luna_tui.vault.kdf import KdfParams


def test_production_defaults_are_at_the_rfc_9106_floor():
    assert kdf.DEFAULT_KDF_SECONDS == 0.5
    assert kdf.FLOOR_MEMORY_KIB == 64 * 1024
    assert kdf.FLOOR_TIME_COST == 3
    assert kdf.floor_parallelism() == min(4, os.cpu_count() or 1)
    floor = kdf.floor_params()
    assert (floor.memory_kib, floor.time_cost) == (65536, 3)
    assert floor.is_at_floor()


@pytest.mark.slow
def test_calibration_never_goes_below_the_floor_whatever_it_is_asked():
    for seconds in (0.0, -5.0, 0.001):
        params = kdf.calibrate(seconds)
        assert params.is_at_floor()
        assert params.memory_kib == 65536 and params.time_cost >= 3


@pytest.mark.slow
def test_calibration_spends_more_passes_when_given_more_time():
    assert kdf.calibrate(0.6).time_cost >= kdf.calibrate(0.0).time_cost


def test_parameters_round_trip_through_their_stored_form():
    params = KdfParams(65536, 4, 2, os.urandom(16))
    assert KdfParams.from_json(params.to_json()) == params


@pytest.mark.parametrize(
    "change",
    [
        {"m": 2**40},
        {"t": 10**9},
        {"p": 1000},
        {"m": 4},
        {"t": 0},
        {"alg": "argon2d"},
        {"v": 16},
        {"salt": "c2hvcnQ="},
        {"len": 16},
        {"m": "65536"},
        {"t": True},
    ],
)
def test_absurd_or_foreign_parameters_are_refused(change):
    raw = json.loads(KdfParams(65536, 3, 1, os.urandom(16)).to_json())
    raw.update(change)
    with pytest.raises(VaultCorrupt):
        KdfParams.from_json(json.dumps(raw))


def test_unreadable_parameters_are_refused():
    for text in ("", "{", "[]", '{"alg": "argon2id"}'):
        with pytest.raises(VaultCorrupt):
            KdfParams.from_json(text)


def test_derivation_depends_on_salt_and_secret():
    params = KdfParams(8, 1, 1, b"s" * 16)
    key = kdf.derive_key("secret words", params)
    assert len(key) == 32
    assert kdf.derive_key("secret words", params) == key
    assert kdf.derive_key("secret word", params) != key
    assert kdf.derive_key("secret words", KdfParams(8, 1, 1, b"t" * 16)) != key


# -- the portable ceiling ----------------------------------------------------------------


@pytest.mark.parametrize(("m", "t", "p", "excess"), [
    (2 * 1024 * 1024, 200, 16, "KiB of memory"),  # the hostile row
    (65536, 201, 4, "201 passes"),
    (65536, 3, 9, "9 lanes"),
    (1024 * 1024, 13, 4, "1,024 MiB × 13 passes"),  # each part in bounds, their product not
])
def test_parameters_above_the_portable_ceiling_are_named(m, t, p, excess):
    params = KdfParams(m, t, p, os.urandom(16))
    params.validate()  # possible: only too heavy to run unasked
    assert excess in (params.above_ceiling() or "")
    with pytest.raises(KdfTooHeavy, match="LUNA_ALLOW_HEAVY_KDF=1"):
        params.check_ceiling()
    params.check_ceiling(allow_heavy=True)


def test_every_parameter_set_luna_has_made_is_within_the_ceiling():
    for time_cost in (3, 14, 200):  # the floor, a default on a fast machine, --kdf-seconds 10
        assert KdfParams(65536, time_cost, 4, os.urandom(16)).above_ceiling() is None
    assert KdfParams(1024 * 1024, 12, 8, os.urandom(16)).above_ceiling() is None


def test_heavy_parameters_are_never_derived_unasked(monkeypatch):
    def argon2_must_not_run(*args, **kwargs):
        raise AssertionError("Argon2 ran above the ceiling")

    monkeypatch.setattr("argon2.low_level.hash_secret_raw", argon2_must_not_run)
    heavy = KdfParams(2 * 1024 * 1024, 200, 16, os.urandom(16))
    with pytest.raises(KdfTooHeavy):
        kdf.derive_key("secret words", heavy)
    # The person's LUNA_ALLOW_HEAVY_KDF is the key manager's to weigh (it knows whether
    # keys.db is the vault's own or a backup's); derive_key runs heavy work only when told.
    monkeypatch.setenv("LUNA_ALLOW_HEAVY_KDF", "1")
    with pytest.raises(KdfTooHeavy):
        kdf.derive_key("secret words", heavy)
    with pytest.raises(AssertionError, match="above the ceiling"):  # allowed: it would run
        kdf.derive_key("secret words", heavy, allow_heavy=True)


def test_calibration_stays_within_the_ceiling_unless_more_is_allowed(monkeypatch):
    monkeypatch.setattr(kdf, "_seconds_per_pass", lambda params: 0.001)  # a very fast machine
    assert kdf.calibrate().time_cost == 200  # the default is quietly kept under it
    assert kdf.calibrate(0.1).time_cost == 100
    with pytest.raises(KdfTooHeavy, match="--allow-heavy-kdf"):
        kdf.calibrate(5.0)  # asked for on purpose: said, not silently cut
    heavy = kdf.calibrate(5.0, allow_heavy=True)
    assert heavy.time_cost == 5000 and heavy.above_ceiling()
