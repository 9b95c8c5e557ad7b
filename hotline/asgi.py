"""ASGI entry point: HTTP (API, pages, admin) and WebSockets on one server."""

import os

from hotline.admission import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hotline.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter  # noqa: E402  (Django must be set up first)
from django.conf import settings  # noqa: E402

from channels_app.routing import websocket_application  # noqa: E402
from hotline.warmup import warm_up  # noqa: E402

application = ProtocolTypeRouter({"http": django_asgi_app, "websocket": websocket_application})
# Everything the first requests would load (views, classifier model, jieba), loaded now: uvicorn
# imports this module before it listens, so no request waits on it (issue 14).
warm_up()

if settings.EMBEDDED_SCHEDULER:
    from hotline.embedded_scheduler import scheduler_start

    scheduler_start()
