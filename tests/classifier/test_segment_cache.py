"""jieba's dictionary cache is unmarshalled: one planted by another local user is never read."""

from __future__ import annotations

import json
import marshal
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SEGMENT = "import json; from classifier.segment import segment; print(json.dumps(segment('公司拖欠工资')))"


def _segment_with_cache_dir(folder: Path) -> list[str]:
    env = {**os.environ, "CLASSIFIER_JIEBA_CACHE_DIR": str(folder), "PYTHONPATH": str(ROOT)}
    run = subprocess.run([sys.executable, "-c", SEGMENT], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=300)  # fmt: skip
    assert run.returncode == 0, run.stderr[-2000:]
    return list(json.loads(run.stdout))


def test_a_dictionary_cache_in_a_folder_others_can_write_is_never_read(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)  # like /tmp: anyone may put a file here
    planted = {"公司拖欠工资": 1000, **{"公司拖欠工资"[:n]: 0 for n in range(1, 6)}}
    (shared / "jieba.cache").write_bytes(marshal.dumps((planted, 1000)))
    assert _segment_with_cache_dir(shared) == ["公司", "拖欠工资"]  # the real dictionary (and our user dictionary)

    private = tmp_path / "private"  # created 0700 by the segmenter: its own cache is used
    assert _segment_with_cache_dir(private) == ["公司", "拖欠工资"]
    assert (private / "jieba.cache").exists()
    assert oct(private.stat().st_mode & 0o777) == "0o700"
