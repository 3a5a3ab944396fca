"""Folding text for search, the same way for the catalog and for queries.

`fold` makes text case- and accent-insensitive and folds Arabic spelling variants
(أ إ آ → ا, ة → ه, ى → ي, tashkeel and tatweel dropped, Arabic-Indic digits → 0-9).
`index_key` then spells Arabic letters with ASCII letters: PostgreSQL's pg_trgm
extracts no trigrams from non-ASCII letters in a database whose LC_CTYPE is C, and
the folded key must work for substring and trigram search whatever the locale.
"""

from __future__ import annotations

import re
import unicodedata

# Variants NFKD leaves alone. (NFKD already splits أ إ آ ؤ ئ into a base letter plus a
# combining hamza or madda, and presentation forms into plain letters.)
_FOLD = str.maketrans(
    {
        "ة": "ه",
        "ى": "ي",
        "ی": "ي",  # Persian yeh
        "ک": "ك",  # Persian kaf
        "ـ": None,  # tatweel
        **{chr(0x0660 + d): str(d) for d in range(10)},  # Arabic-Indic digits
        **{chr(0x06F0 + d): str(d) for d in range(10)},  # Persian digits
    }
)
_NON_WORD = re.compile(r"[^0-9a-z\u0621-\u064a]+")

# Each folded Arabic letter as ASCII: 25 single letters, and "x" + letter for 4 more.
_ARABIC_TO_ASCII = str.maketrans(
    {
        "ا": "a",
        "ب": "b",
        "ش": "c",
        "د": "d",
        "ع": "e",
        "ف": "f",
        "غ": "g",
        "ح": "h",
        "ي": "i",
        "ج": "j",
        "ك": "k",
        "ل": "l",
        "م": "m",
        "ن": "n",
        "ء": "o",
        "ص": "p",
        "ق": "q",
        "ر": "r",
        "س": "s",
        "ت": "t",
        "و": "u",
        "ث": "v",
        "ه": "w",
        "خ": "y",
        "ز": "z",
        "ذ": "xd",
        "ض": "xp",
        "ط": "xt",
        "ظ": "xz",
    }
)

# The combining marks of the Basic Multilingual Plane (accents, tashkeel, the hamza and madda
# NFKD splits off), deleted by str.translate in C rather than one character at a time.
_DROP_MARKS = dict.fromkeys(code for code in range(0x10000) if unicodedata.combining(chr(code)))

# Words shorter than this match by substring only; a one-letter typo in them is too ambiguous.
MIN_TYPO_WORD = 4


def fold(text: str | None) -> str:
    """Lower-case, accent-free, Arabic-normalised words separated by single spaces."""
    if not text:
        return ""
    stripped = unicodedata.normalize("NFKD", text.casefold()).translate(_DROP_MARKS)
    return " ".join(_NON_WORD.split(stripped.translate(_FOLD))).strip()


def index_key(folded: str) -> str:
    """The ASCII spelling of folded text stored in, and matched against, the search columns."""
    return folded.translate(_ARABIC_TO_ASCII)


def words(folded: str) -> list[str]:
    return [word for word in folded.split(" ") if word]


def typo_variants(word: str) -> set[str]:
    """The word and every string one deletion away ("symmetric delete"): two words within
    one insertion, deletion, substitution or adjacent swap share at least one variant."""
    if len(word) < MIN_TYPO_WORD:
        return {word}
    return {word} | {word[:i] + word[i + 1 :] for i in range(len(word))}
