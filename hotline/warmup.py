"""Load before serving what a web process would otherwise load on its first requests.

Django imports the URLconf (every view, DRF, drf-spectacular, scikit-learn through the classifier)
on the first request; the classifier registry loads the active model on the first ticket; jieba
reads its dictionary on the first segmentation. That was 5–8 s inside a new worker's first requests
on a quiet 2-core machine and past 90 s under load (issue 14), while its socket already accepted
connections. `warm_up()` does it all at start: hotline.asgi calls it, so any ASGI server that
imports the app before it listens (uvicorn does) serves warm, and `hotline.serve` calls it once
in the parent before forking its workers, which then start warm and share these pages. A Celery
worker's main process does the same before it forks its pool (`hotline.celery`, `worker_init`).

Last, everything loaded so far is frozen out of the garbage collector's sight (`gc.freeze()`): it
lives as long as the process. A full collection walked those ~230,000 objects each time, 95–130 ms
during which the process served nothing, every request it held waiting (the call centre's p99,
bench/callcentre); now it walks only what requests made. Forked workers also stop writing the
collector's bookkeeping into the pages they share with the parent.

It never opens a database or Redis connection: the parent's connections would be inherited by
every forked worker. `hotline.serve` checks that and closes any before it forks.
"""

from __future__ import annotations

import gc

import celery.app.trace  # noqa: F401 (runs a task: in process in the embedded default)
from django.conf import settings
from django.urls import get_resolver
from django.utils import translation

import tickets.metrics.services.scorecards  # noqa: F401 (imported inside event_record, against an import cycle)
from classifier.registry import get_registry
from hotline.celery import app as celery_app
from tickets.core.text import normalise_phone
from tickets.textsearch import search_tokens

# A citizen's message: classifying it loads the model and the classifier's tokenizer and runs
# scikit-learn's predict path once (its first call imports more of scipy).
SAMPLE_TEXT = "公司拖欠三个月工资，请求劳动监察部门帮助"


def warm_up() -> None:
    get_resolver().url_patterns  # noqa: B018 (the property imports hotline.urls and every view)
    get_registry(settings.CLASSIFIER_MODEL_DIR).predict(SAMPLE_TEXT)
    search_tokens(SAMPLE_TEXT)  # knowledge base, duplicates and hot spots' own tokenizer
    normalise_phone("13800138000")  # phonenumbers reads a region's metadata on its first number
    celery_app.loader.import_default_modules()  # the task modules: a ticket queues its SMS and pushes
    celery_app.finalize(auto=True)  # builds the task classes (celery.app.task, trace) from their proxies
    celery_app.amqp.router  # noqa: B018 (the publishing machinery, built on the first .delay())
    with celery_app.connection_for_write() as broker:  # not connected: only the transport's modules
        broker.get_transport_cls()
    with translation.override(settings.LANGUAGE_CODE):
        translation.gettext("登录")  # reads the compiled catalogues of every app
    gc.collect()  # what loading left as garbage is freed, not frozen
    gc.freeze()
