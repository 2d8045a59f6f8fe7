"""Argon2id parameters: the production floor, calibration, and validation."""

from __future__ import annotations

import json
import os

import pytest

from luna_tui.errors import VaultCorrupt
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
