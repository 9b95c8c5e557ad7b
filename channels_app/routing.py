"""WebSocket routing. Consumers authenticate on connect (channels_app.auth) and never write."""

from channels.routing import URLRouter
from django.urls import path

from channels_app.auth import LiveAuthStack
from channels_app.consumers import LiveConsumer

websocket_urlpatterns = [path("ws/live/", LiveConsumer.as_asgi())]

# No AllowedHostsOriginValidator in front: token clients (apps, partner systems) send no
# Origin. The cookie path checks the Origin itself (LiveAuthMiddleware).
websocket_application = LiveAuthStack(URLRouter(websocket_urlpatterns))
