"""Chinese text features shared by the knowledge base, duplicate lookup and hot spots.

- `search_tokens`: jieba search-mode words (a private `jieba.Tokenizer`, so nobody else's user
  dictionary changes ours), lower-cased, punctuation and stop words dropped.
- `shingles` / `minhash_signature` / `band_keys`: character 3-gram shingles of the normalised
  text, their MinHash signature (datasketch, a stable CRC32 hash so every process agrees), and
  the LSH band keys stored per ticket.
"""

from __future__ import annotations

import hashlib
import re
import threading
import unicodedata
import zlib
from collections.abc import Iterable
from functools import lru_cache

import jieba
import numpy as np
from datasketch import MinHash

from classifier.segment import new_tokenizer

NUM_PERM = 64
BANDS = 32  # × 2 rows: measured on real re-posts, see bench/duplicates/detect_quality.py
ROWS = NUM_PERM // BANDS
SHINGLE = 3
_SEED = 12345

# Words that carry no matter: question words, courtesy, pronouns, particles.
_STOP_TEXT = """
    的 了 吗 呢 吧 啊 呀 嘛 么 哦 和 与 及 或 还 也 都 就 又 在 是 有 被 把 给 对 从 向 到 为 以 等 之
    我 你 他 她 它 我们 你们 他们 自己 本人 家里 请问 请 您好 你好 谢谢 麻烦 一下 一个 这个 那个 这 那
    怎么 怎么样 怎样 怎么办 如何 什么 哪些 哪里 哪儿 哪个 为什么 多久 几天 是否 能否 可否 能不能 可不可以
    可以 能 会 要 想 需要 应该 现在 目前 已经 问 问问 咨询 一些 有没有 没有 不 没 吗 得 着 过 个 些
"""
STOP_WORDS = frozenset(_STOP_TEXT.split())
_DOMAIN_TEXT = (
    "公积金 住房公积金 居住证 社保 医保 社保卡 医保卡 垃圾分类 厨余垃圾 可回收物 有害垃圾 其他垃圾 新生儿 落户 户口"
    " 停水 停电 违章停车 乱停车 异地就医 灵活就业 退休金 养老金 失业金 失业保险 工伤 生育津贴 入学 报名 学位"
    " 幼升小 小升初 积分入学 电动车 充电桩 噪音 噪声 油烟 物业费 维修基金 占道经营 网约车 出租车 预付卡"
    " 公租房 廉租房 人才公寓 不动产 契税 提取 缴存 断缴 补缴 转移 接续 门诊 住院 报销 结算 备案"
)
_DOMAIN_WORDS = _DOMAIN_TEXT.split()

_KEEP = re.compile(r"[0-9a-z\u3400-\u4dbf\u4e00-\u9fff]+")
_lock = threading.Lock()
_tokenizer: jieba.Tokenizer | None = None


def _jieba() -> jieba.Tokenizer:
    """The search tokenizer, built once per process with our domain words (not the classifier's
    dictionary: each keeps its own segmentation)."""
    global _tokenizer
    if _tokenizer is None:
        with _lock:
            if _tokenizer is None:
                _tokenizer = new_tokenizer(words=_DOMAIN_WORDS)
    return _tokenizer


def normalise(text: str) -> str:
    """NFKC, lower case, only CJK letters and ASCII alphanumerics (punctuation and spaces dropped)."""
    text = unicodedata.normalize("NFKC", text or "").lower()
    return "".join(_KEEP.findall(text))


@lru_cache(maxsize=4096)
def _tokens_cached(text: str) -> tuple[str, ...]:
    words = _jieba().cut_for_search(text)
    out = []
    for word in words:
        word = word.strip()
        if not word or word in STOP_WORDS or not _KEEP.fullmatch(word):
            continue
        out.append(word)
    return tuple(out)


def search_tokens(text: str) -> list[str]:
    """jieba search-mode tokens (long words and their sub-words), for BM25 and tsvector alike."""
    text = unicodedata.normalize("NFKC", text or "").lower()
    return list(_tokens_cached(text[:2000]))


def tokens_text(tokens: Iterable[str]) -> str:
    return " ".join(tokens)


# --- MinHash / LSH --------------------------------------------------------------------------


def _crc32(data: bytes) -> int:
    return zlib.crc32(data)


def shingles(text: str, k: int = SHINGLE) -> set[str]:
    """Character k-grams of the normalised text; a text shorter than k is its own shingle."""
    norm = normalise(text)
    if len(norm) <= k:
        return {norm} if norm else set()
    return {norm[i : i + k] for i in range(len(norm) - k + 1)}


_template = MinHash(num_perm=NUM_PERM, seed=_SEED, hashfunc=_crc32, scheme="affine32")


def minhash_signature(text: str) -> tuple[np.ndarray, int]:
    """(signature as uint32[NUM_PERM], number of shingles). The permutations are fixed by the seed."""
    grams = shingles(text)
    mh = MinHash(num_perm=NUM_PERM, seed=_SEED, hashfunc=_crc32, permutations=_template.permutations, scheme="affine32")
    if grams:
        mh.update_batch([g.encode("utf-8") for g in grams])
    return mh.hashvalues.astype(np.uint32), len(grams)


def signature_bytes(sig: np.ndarray) -> bytes:
    return sig.astype("<u4").tobytes()


def signature_from_bytes(raw: bytes | memoryview) -> np.ndarray:
    return np.frombuffer(bytes(raw), dtype="<u4")


def signature_similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Estimated Jaccard similarity of the two shingle sets."""
    return float(np.count_nonzero(a == b)) / len(a)


def band_keys(sig: np.ndarray) -> list[int]:
    """One signed 64-bit key per band; the band number is hashed in so bands never collide."""
    keys = []
    raw = sig.astype("<u4")
    for band in range(BANDS):
        chunk = raw[band * ROWS : (band + 1) * ROWS].tobytes()
        digest = hashlib.blake2b(bytes([band]) + chunk, digest_size=8).digest()
        keys.append(int.from_bytes(digest, "little", signed=True))
    return keys


def bigram_jaccard(a: str, b: str) -> float:
    """Similarity of two short strings (addresses): Jaccard of character bigrams."""
    ga, gb = shingles(a, 2), shingles(b, 2)
    if not ga or not gb:
        return 0.0
    return len(ga & gb) / len(ga | gb)
