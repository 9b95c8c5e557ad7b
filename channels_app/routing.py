"""WebSocket routing. Consumers authenticate on connect (channels_app.auth) and never write."""

from channels.routing import URLRouter
from django.urls import path

from channels_app.auth import LiveAuthStack
from channels_app.consumers import LiveConsumer
from channels_app.handshake import HandshakeGuard

websocket_urlpatterns = [path("ws/live/", LiveConsumer.as_asgi())]

# No AllowedHostsOriginValidator in front: token clients (apps, partner systems) send no
# Origin. The cookie path checks the Origin itself (LiveAuthMiddleware). HandshakeGuard outside
# everything: a database or Redis outage while the session, token or groups are looked up
# refuses the socket (503 / close 1013, a warning), never an unhandled HTTP 500.
websocket_application = HandshakeGuard(LiveAuthStack(URLRouter(websocket_urlpatterns)))
