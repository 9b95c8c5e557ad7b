"""Is a SECRET_KEY fit for production? Used by hotline/settings_production.py (which refuses to start
otherwise) and importable without loading any settings."""

from __future__ import annotations

import math
import zlib
from collections import Counter

# The key signs sessions, password resets and the rating links in SMS: anyone who knows it forges
# them. A key copied from an example or document is known, however long (issue 14, finding 10).
SECRET_KEY_PLACEHOLDERS = frozenset({"change-me-to-a-long-random-string"})  # deploy/systemd/hotline.env.example
SECRET_KEY_PLACEHOLDER_MARKERS = ("change-me", "changeme", "change_me", "replace-me", "insecure", "example",
                                  "placeholder", "your-secret", "secret-key")  # fmt: skip
SECRET_KEY_MIN_LENGTH = 50
SECRET_KEY_MIN_DISTINCT = 10
# Estimated information: the smaller of length x per-character Shannon entropy (few distinct
# characters) and zlib's compressed size (repeated runs); secrets.token_urlsafe(64) gives ≈ 480.
# 128, not more: the estimate from 50 characters runs low for a truly random key —
# secrets.token_hex(25) (200 random bits) estimates 165–200 and now and then below 160 (CI saw one
# at 159.9 and refused a good key); repeated or few-character keys estimate far below 128.
SECRET_KEY_MIN_BITS = 128
GENERATE_HINT = "python3 -c 'import secrets; print(secrets.token_urlsafe(64))'"


def secret_key_weakness(key: str) -> str | None:
    """Why `key` must not sign anything in production, or None for a random-looking key."""
    lowered = key.lower()
    if key in SECRET_KEY_PLACEHOLDERS or any(marker in lowered for marker in SECRET_KEY_PLACEHOLDER_MARKERS):
        return "这是示例文件或文档中的占位符，任何人都知道它，可以伪造评价链接和会话"
    if len(key) < SECRET_KEY_MIN_LENGTH:
        return f"太短：至少 {SECRET_KEY_MIN_LENGTH} 个字符"
    counts = Counter(key)
    shannon = -sum(n * math.log2(n / len(key)) for n in counts.values())
    compressed = 8 * (len(zlib.compress(key.encode(), 9)) - len(zlib.compress(b"", 9)))
    bits = min(shannon, compressed)
    if len(counts) < SECRET_KEY_MIN_DISTINCT or bits < SECRET_KEY_MIN_BITS:
        return "不够随机（重复字符太多）"
    return None
