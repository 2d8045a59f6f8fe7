"""What Luna accepts as a new passphrase, and how it explains a refusal."""

from __future__ import annotations

import unicodedata

import pytest

from luna_tui.errors import WeakPassphrase
from luna_tui.vault.passphrase_policy import check_new_passphrase, normalise


@pytest.mark.parametrize(
    ("weak", "reason"),
    [
        ("", "can't be empty"),
        ("abc", "too short"),
        ("password", "top-10 common password"),
        ("Password1!", "commonly used password"),
        ("aaaaaaaaaaaa", "weak"),
    ],
)
def test_empty_short_and_common_passphrases_are_refused_with_a_reason(weak, reason):
    with pytest.raises(WeakPassphrase) as refused:
        check_new_passphrase(weak)
    assert reason in str(refused.value)


def test_a_few_unrelated_words_are_accepted():
    assert check_new_passphrase("mango river quietly sings") == "mango river quietly sings"


def test_passphrases_are_nfc_normalised():
    composed = "café crème brûlée saison"
    decomposed = unicodedata.normalize("NFD", composed)
    assert decomposed != composed
    assert normalise(decomposed) == composed
    assert check_new_passphrase(decomposed) == composed
