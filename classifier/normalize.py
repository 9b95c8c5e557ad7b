"""Text normalisation applied before every feature extractor.

Citizen messages arrive from phone transcripts, SMS, web forms and partner APIs: full-width
Latin letters and digits, stray control characters, lone surrogates from badly decoded
payloads, and occasionally pasted documents of tens of thousands of characters. Everything
downstream (segmentation, n-grams, the model) sees only the output of :func:`normalize_text`.
"""

from __future__ import annotations

import re
import unicodedata

#: Only the head of a very long message is read; the subject and first paragraphs carry the
#: category, and the cap bounds the latency of a single prediction.
MAX_CHARS = 5000

_WHITESPACE_RE = re.compile(r"\s+")
# Full-width ASCII variants (！ to ～) sit at a fixed offset from their half-width forms.
_FULLWIDTH_TABLE = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
_FULLWIDTH_TABLE[0x3000] = 0x20  # ideographic space
# Categories dropped outright: controls, format characters (zero-width joiners, BOM,
# bidi marks), surrogates, private-use and unassigned code points.
_DROPPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})


def normalize_text(text: object, *, max_chars: int = MAX_CHARS) -> str:
    """Return a clean, bounded, half-width version of ``text``.

    Never raises: ``None`` and non-string values become ``""`` (bytes are decoded as UTF-8
    with replacement). Whitespace, including newlines and tabs, collapses to single spaces.
    Latin letters are lower-cased so that ``ＡＢＣ``, ``ABC`` and ``abc`` are one feature.
    """
    if text is None:
        return ""
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    if not isinstance(text, str):
        text = str(text)
    # Read a little more than the cap: characters dropped below must not shorten the result
    # much, but the work stays bounded for megabyte-sized inputs.
    head = text[: max_chars * 2].translate(_FULLWIDTH_TABLE)
    head = _WHITESPACE_RE.sub(" ", head)
    # Anything not printable that is left (whitespace is a space by now) is a control,
    # format, surrogate, private-use or unassigned character; checking in C first keeps
    # ordinary text off the per-character loop.
    if not head.isprintable():
        head = "".join(
            char
            for char in head
            if char.isprintable() or unicodedata.category(char) not in _DROPPED_CATEGORIES
        )
        head = _WHITESPACE_RE.sub(" ", head)
    return head.strip().lower()[:max_chars].rstrip()
