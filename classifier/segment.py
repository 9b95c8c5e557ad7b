"""Chinese word segmentation with a private, lazily initialised jieba tokenizer.

The process-wide ``jieba`` tokenizer is shared with any other code that imports jieba; a
private :class:`jieba.Tokenizer` keeps our user dictionary (districts, departments, hotline
terms in ``data/userdict.txt``) from leaking into it and vice versa. Building the prefix
dictionary takes about a second, so it happens once per process, on first use.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
import threading
from collections.abc import Iterable
from pathlib import Path

import jieba

USERDICT_PATH = Path(__file__).resolve().parent / "data" / "userdict.txt"

# jieba logs every dictionary load at DEBUG on its own stderr handler; only problems matter.
logging.getLogger("jieba").setLevel(logging.WARNING)
jieba.setLogLevel(logging.WARNING)

_lock = threading.Lock()
_tokenizer: jieba.Tokenizer | None = None
# A token is kept when it holds at least one letter, digit or CJK character: punctuation and
# lone symbols carry no category signal for the word features (the char n-grams still see them).
_WORDLIKE_RE = re.compile(r"\w")


def _cache_dir() -> str:
    """A writable folder for jieba's prefix-dictionary cache (never the package folder)."""
    configured = os.environ.get("CLASSIFIER_JIEBA_CACHE_DIR")
    folder = Path(configured) if configured else Path(tempfile.gettempdir()) / "hotline-jieba"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return tempfile.gettempdir()
    return str(folder)


def new_tokenizer(
    *, userdict: Path | None = None, words: Iterable[str] = (), word_freq: int = 20000
) -> jieba.Tokenizer:
    """Build a private jieba tokenizer (about a second): our cache folder, then an optional
    user-dictionary file and extra words. Every private tokenizer of the project is made here,
    so each keeps its own dictionary and none leaks into another's segmentation."""
    tokenizer = jieba.Tokenizer()
    tokenizer.tmp_dir = _cache_dir()
    tokenizer.initialize()
    if userdict is not None:
        tokenizer.load_userdict(str(userdict))
    for word in words:
        tokenizer.add_word(word, freq=word_freq)
    return tokenizer


def get_tokenizer() -> jieba.Tokenizer:
    """Return the classifier's tokenizer, building it (and loading the user dictionary) once."""
    global _tokenizer
    if _tokenizer is not None:
        return _tokenizer
    with _lock:
        if _tokenizer is None:
            _tokenizer = new_tokenizer(userdict=USERDICT_PATH)
    return _tokenizer


def segment(text: str) -> list[str]:
    """Split already-normalised ``text`` into word tokens, dropping punctuation-only tokens.

    HMM new-word discovery is off: it costs a quarter of the time and did not change the
    cross-validated score (see bench/classifier/README.md).
    """
    if not text:
        return []
    tokens = get_tokenizer().lcut(text, HMM=False)
    return [token for token in tokens if _WORDLIKE_RE.search(token)]
