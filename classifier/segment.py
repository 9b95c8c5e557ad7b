"""Chinese word segmentation with a private, lazily initialised jieba tokenizer.

The process-wide ``jieba`` tokenizer is shared with any other code that imports jieba; a
private :class:`jieba.Tokenizer` keeps our user dictionary (districts, departments, hotline
terms in ``data/userdict.txt``) from leaking into it and vice versa.

jieba's main dictionary (half a million prefix entries) is read once per process and each private
tokenizer gets a copy of it (40 ms) instead of reading it again: every tokenizer read it on its
own, from jieba's cache with ``marshal.load`` on a buffered file, 2.5–2.8 s each on the shared
2-core machine, against about 1 s for ``marshal.loads`` of the whole file (issue 14). The web
server reads it before it forks its workers (``hotline.warmup``).
"""

from __future__ import annotations

import logging
import marshal
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
_build_lock = threading.Lock()  # apart from _lock: building a tokenizer takes _lock to read the dictionary
_tokenizer: jieba.Tokenizer | None = None
_main_dictionary: tuple[dict[str, int], int] | None = None
_private_cache_dir: str | None = None
# A token is kept when it holds at least one letter, digit or CJK character: punctuation and
# lone symbols carry no category signal for the word features (the char n-grams still see them).
_WORDLIKE_RE = re.compile(r"\w")


def _cache_dir() -> str:
    """A folder for jieba's prefix-dictionary cache that only this user can write.

    The cache is unmarshalled (by jieba and by `main_dictionary`), so a file another local user
    planted in a shared folder must never be read: the default is per user, created 0700, and a
    folder owned by someone else or writable by others is refused for a private one.
    """
    global _private_cache_dir
    configured = os.environ.get("CLASSIFIER_JIEBA_CACHE_DIR")
    folder = Path(configured) if configured else Path(tempfile.gettempdir()) / f"hotline-jieba-{os.getuid()}"
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        st = folder.stat()
        if st.st_uid == os.getuid() and not st.st_mode & 0o022:
            return str(folder)
    except OSError:
        pass
    if _private_cache_dir is None:
        _private_cache_dir = tempfile.mkdtemp(prefix="hotline-jieba-")  # this process only: slower, safe
    return _private_cache_dir


def main_dictionary() -> tuple[dict[str, int], int]:
    """jieba's main prefix dictionary and its total frequency, read once per process.

    From jieba's own cache file when it is there (read whole, then unmarshalled); otherwise jieba
    builds it from its dictionary and writes that cache (a few seconds, once per machine).
    """
    global _main_dictionary
    with _lock:
        if _main_dictionary is None:
            cache = Path(_cache_dir()) / "jieba.cache"  # jieba's name for the default dictionary's cache
            try:
                # a folder only this user can write (_cache_dir), as jieba itself reads it
                freq, total = marshal.loads(cache.read_bytes())  # noqa: S302
                _main_dictionary = (freq, int(total))
            except (OSError, EOFError, ValueError, TypeError):
                builder = jieba.Tokenizer()
                builder.tmp_dir = _cache_dir()
                builder.initialize()
                _main_dictionary = (builder.FREQ, builder.total)
        return _main_dictionary


def new_tokenizer(
    *, userdict: Path | None = None, words: Iterable[str] = (), word_freq: int = 20000
) -> jieba.Tokenizer:
    """Build a private jieba tokenizer: a copy of the main dictionary, then an optional
    user-dictionary file and extra words. Every private tokenizer of the project is made here,
    so each keeps its own dictionary and none leaks into another's segmentation."""
    freq, total = main_dictionary()
    tokenizer = jieba.Tokenizer()
    tokenizer.tmp_dir = _cache_dir()
    tokenizer.FREQ, tokenizer.total = dict(freq), total
    tokenizer.initialized = True  # jieba's initialize() would read the dictionary again
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
    with _build_lock:
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
