"""Name normalisation for search and matching: folding, a phonetic key, edit distance."""

from __future__ import annotations

import re
import unicodedata

_NOT_WORD = re.compile(r"[^a-z0-9]+")
_APOSTROPHES = re.compile(r"['’`´‘]")

# Old (pre-1972 and Dutch) spellings still found on documents, and letters Indonesians
# write interchangeably in names: Soekarno/Sukarno, Djoko/Joko, Tjahjo/Cahyo, Fitri/Pitri.
_SPELLINGS = (
    ("oe", "u"),
    ("dj", "j"),
    ("tj", "c"),
    ("sj", "sy"),
    ("nj", "ny"),
    ("ch", "k"),
    ("ph", "f"),
    ("th", "t"),
    ("kh", "k"),
    ("q", "k"),
    ("x", "ks"),
    ("v", "f"),
    ("p", "f"),
    ("z", "j"),
    ("y", "i"),
    ("w", "u"),
)
_VOWELS = set("aeiou")


def fold_name(name: str) -> str:
    """Lower case, no accents, no punctuation, single spaces.

    'Dr. Ni Luh Ayu' becomes 'dr ni luh ayu'.
    """
    decomposed = unicodedata.normalize("NFKD", name or "")
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    plain = _APOSTROPHES.sub("", plain)
    return _NOT_WORD.sub(" ", plain).strip()


def _word_key(word: str) -> str:
    for old, new in _SPELLINGS:
        word = word.replace(old, new)
    if not word:
        return ""
    head, rest = word[0], word[1:]
    # Vowels and h carry most spelling variation (Muhammad/Mohamad/Muhamad): drop them after
    # the first letter, then collapse doubled consonants.
    kept = [c for c in rest if c not in _VOWELS and c != "h"]
    out = [head]
    for c in kept:
        if c != out[-1]:
            out.append(c)
    return "".join(out)


def word_key(word: str) -> str:
    """The phonetic key of one folded word (what :func:`phonetic_key` joins)."""
    return _word_key(word)


def phonetic_key(name: str) -> str:
    """A coarse key under which spelling variants of a name coincide."""
    return " ".join(k for k in (_word_key(w) for w in fold_name(name).split()) if k)


def edit_distance(a: str, b: str, limit: int | None = None) -> int:
    """Levenshtein distance; stops early (returning ``limit + 1``) once above ``limit``."""
    if a == b:
        return 0
    if len(a) < len(b):
        a, b = b, a
    if limit is not None and len(a) - len(b) > limit:
        return limit + 1
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        if limit is not None and min(current) > limit:
            return limit + 1
        previous = current
    return previous[-1]


def similarity(a: str, b: str) -> float:
    """1.0 for equal folded names, falling towards 0 with the edit distance."""
    fa, fb = fold_name(a), fold_name(b)
    if not fa and not fb:
        return 1.0
    longest = max(len(fa), len(fb))
    return 1.0 - edit_distance(fa, fb) / longest


def names_match(a: str, b: str) -> bool:
    """Same name once case, spacing, punctuation and accents are ignored."""
    return fold_name(a) == fold_name(b)
