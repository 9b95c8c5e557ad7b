"""A web process loads everything before it serves: its first requests only do their own work.

On a loaded 2-core machine a new `hotline.serve` worker took 90 s and more to answer its first
request (issue 14): Django imported the URLconf (every view, DRF, scikit-learn through the
classifier) inside the first request, the classifier model and jieba's dictionary were loaded by
the first ticket, and the worker's socket took connections all the while. Checked in a fresh
interpreter as a server runs it: import `hotline.asgi` (what uvicorn and each worker do before they
listen), then serve a page and classify a citizen's message through the real ASGI application.
What was loaded is frozen out of the garbage collector's full passes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

FIRST_REQUESTS = r"""
import gc, json, sys
import jieba

built = []
_init = jieba.Tokenizer.__init__
def _counting_init(self, *args, **kwargs):
    built.append(1)
    _init(self, *args, **kwargs)
jieba.Tokenizer.__init__ = _counting_init  # counts dictionaries built from here on

import hotline.asgi  # what a server imports before it listens
from asgiref.sync import async_to_sync
from channels.testing import HttpCommunicator
from django.conf import settings
from classifier.registry import get_registry
from tickets.textsearch import search_tokens

registry = get_registry(settings.CLASSIFIER_MODEL_DIR)
served_before = registry.serving_version
loaded, built_before = set(sys.modules), len(built)
frozen, tracked = gc.get_freeze_count(), len(gc.get_objects())  # what a full collection would walk

async def get(path):
    comm = HttpCommunicator(hotline.asgi.application, "GET", path, headers=[(b"host", b"127.0.0.1")])
    return (await comm.get_response(timeout=60))["status"]

statuses = [async_to_sync(get)("/login/"), async_to_sync(get)("/healthz")]
text = "小区楼下烧烤店油烟太大，晚上噪音扰民，请环保部门处理"
label = registry.predict(text).top_k[0].label  # what the first ticket's intake does
words = search_tokens(text)  # knowledge-base suggestions and duplicates of that ticket
print(json.dumps({
    "statuses": statuses, "label": label, "words": bool(words),
    "served_before": served_before, "model": registry.serving_version,
    "built_during": len(built) - built_before,
    "frozen": frozen, "tracked": tracked,
    "imported_during": sorted(set(sys.modules) - loaded),
}))
"""

# Packages whose import is the work of a start, not of a request.
HEAVY = ("hotline", "tickets", "classifier", "channels_app", "sklearn", "scipy", "jieba", "rest_framework",
         "drf_spectacular", "PIL", "datasketch", "numpy")  # fmt: skip


def test_the_first_requests_load_no_module_model_or_dictionary(tmp_path: Path, demo_model: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update({"HOTLINE_VAR_DIR": str(tmp_path), "CLASSIFIER_MODEL_DIR": str(demo_model), "PYTHONPATH": str(ROOT)})
    env["DJANGO_SETTINGS_MODULE"] = "hotline.settings"
    env.pop("DATABASE_URL", None)  # neither request touches the database
    env.pop("REDIS_URL", None)
    run = subprocess.run([sys.executable, "-c", FIRST_REQUESTS], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=300)  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["statuses"] == [200, 200]
    assert result["label"] == "环境保护"  # a real classification, by the demo model
    assert result["words"]
    assert result["served_before"] is not None and result["served_before"] == result["model"]
    assert result["built_during"] == 0
    # Start-up's objects are out of the collector's sight: a full collection walked them all, a
    # 95-130 ms stop of the whole process (bench/callcentre/README.md), now only what came since.
    assert result["frozen"] > 100_000
    assert result["tracked"] < result["frozen"] / 10
    heavy = [m for m in result["imported_during"] if m.split(".")[0] in HEAVY]
    assert heavy == []
