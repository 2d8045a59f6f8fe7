"""Recovery and access keys: readable aloud, forgiving of case and look-alikes, and
catching typos before Argon2 runs."""

from __future__ import annotations

from luna_tui.vault.generated_keys import (
    ALPHABET,
    canonical_form,
    grouped,
    looks_like_generated_key,
    new_generated_key,
)


def test_a_new_key_is_32_characters_in_eight_groups_of_four():
    key = new_generated_key()
    assert len(key) == 32 and set(key) <= set(ALPHABET)
    groups = grouped(key).split(" ")
    assert len(groups) == 8 and all(len(g) == 4 for g in groups)


def test_keys_are_random():
    assert len({new_generated_key() for _ in range(50)}) == 50


def test_case_separators_and_look_alike_letters_are_forgiven():
    key = new_generated_key()
    spoken = grouped(key).lower().replace(" ", "-").replace("0", "o").replace("1", "l")
    assert canonical_form(spoken) == key
    assert canonical_form(f"  {grouped(key)}\n") == key


def test_a_typo_is_caught_by_the_check_characters():
    # A fixed key: the check is a 10-bit hash, so about one typo in 1,024 slips through
    # (it is then just a wrong key); with a random key this test failed that often.
    from luna_tui.vault.generated_keys import ALPHABET, _check

    data = "K7QF2M9DXW3R8PTAHN4C0ZQ6RB1E5Y"
    key = data + _check(data)
    assert canonical_form(key) == key
    typos = [key[:i] + c + key[i + 1:] for i in range(len(key)) for c in ALPHABET
             if c != key[i]]
    assert len(typos) == 992
    assert all(canonical_form(typo) is None for typo in typos)  # every one of them caught
    assert all(looks_like_generated_key(typo) for typo in typos)


def test_passphrases_are_not_mistaken_for_keys():
    assert canonical_form("correct horse battery staple") is None
    assert not looks_like_generated_key("correct horse battery staple")
