"""What Luna accepts as a passphrase.

Passphrases are NFC-normalised so that the same words typed on a different keyboard or
system (composed "é" versus "e" + combining accent) open the vault. Strength is
estimated by zxcvbn (pattern and dictionary aware, with feedback in plain words)
rather than by character-class rules, which reward `Password1!`.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from luna_tui.errors import WeakPassphrase

MIN_LENGTH = 8
MIN_SCORE = 2  # zxcvbn: 0 too guessable … 4 very unguessable; refuse 0 and 1


def normalise(passphrase: str) -> str:
    return unicodedata.normalize("NFC", passphrase)


@dataclass(frozen=True)
class Strength:
    score: int  # 0..4
    label: str
    advice: str

    @property
    def acceptable(self) -> bool:
        return self.score >= MIN_SCORE


_LABELS = ("very weak", "weak", "fair", "strong", "very strong")


def estimate(passphrase: str) -> Strength:
    """zxcvbn's score, a word for it, and its most useful hint."""
    if not passphrase:
        return Strength(0, "empty", "Type a passphrase: a few unrelated words work well.")
    if len(passphrase) < MIN_LENGTH:
        return Strength(
            0, "too short", f"Use at least {MIN_LENGTH} characters; a few words work well."
        )
    from zxcvbn import zxcvbn  # deferred: loads word-frequency lists

    result = zxcvbn(passphrase[:100])  # zxcvbn slows down sharply on very long input
    feedback = result.get("feedback") or {}
    advice = feedback.get("warning") or " ".join(feedback.get("suggestions") or [])
    score = int(result["score"])
    return Strength(score, _LABELS[score], advice or "")


def check_new_passphrase(passphrase: str) -> str:
    """Normalise a new passphrase, or raise WeakPassphrase with the reason."""
    passphrase = normalise(passphrase)
    if not passphrase:
        raise WeakPassphrase("The passphrase can't be empty: choose a few unrelated words.")
    strength = estimate(passphrase)
    if strength.acceptable:
        return passphrase
    if len(passphrase) < MIN_LENGTH:
        raise WeakPassphrase(
            f"That passphrase is too short: use at least {MIN_LENGTH} characters. "
            "A few unrelated words are strong and easy to remember."
        )
    reason = strength.advice.rstrip(".") or "it is easy to guess"
    raise WeakPassphrase(
        f"That passphrase is {strength.label} ({reason[0].lower()}{reason[1:]}). "
        "Try four or five unrelated words."
    )
