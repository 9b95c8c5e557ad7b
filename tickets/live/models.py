"""The live feed's outbox: events not yet handed to the channel layer."""

from __future__ import annotations

from django.db import models


class LiveOutbox(models.Model):
    """One row per TicketEvent still to be pushed live; the row is deleted once it is.

    Written in the same transaction as the event, so a committed event always has either
    been broadcast or still has a row here. When Redis is down the row stays, and the
    periodic `channels_app.tasks.live_outbox_flush` sends it once Redis is back.
    """

    event = models.OneToOneField(
        "tickets.TicketEvent", primary_key=True, on_delete=models.CASCADE, related_name="live_outbox"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["event_id"]
        indexes = [models.Index(fields=["created_at"], name="live_outbox_created")]

    def __str__(self) -> str:
        return f"outbox:{self.event_id}"
