"""Call-centre webhook routes, mounted under /webhooks/twilio/callcentre/ (tickets/intake/webhooks/urls.py)."""

from django.urls import path

from tickets.callcentre import webhooks

urlpatterns = [
    path("voice/", webhooks.incoming, name="callcentre-voice"),
    path("choose/", webhooks.choose, name="callcentre-choose"),
    path("wait/", webhooks.wait, name="callcentre-wait"),
    path("seat/", webhooks.seat, name="callcentre-seat"),
    path("seat/status/", webhooks.seat_status, name="callcentre-seat-status"),
    path("bridge/", webhooks.bridge, name="callcentre-bridge"),
    path("dial/", webhooks.dial, name="callcentre-dial"),
    path("recording/", webhooks.recording, name="callcentre-recording"),
    path("left/", webhooks.left, name="callcentre-left"),
    path("callback/", webhooks.callback, name="callcentre-callback"),
    path("callback/done/", webhooks.callback_done, name="callcentre-callback-done"),
]
