"""The live feed consumer: authenticates on connect, joins the reader's groups, never writes."""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from channels_app.groups import CENTRE, unit_group


class LiveConsumer(AsyncJsonWebsocketConsumer):
    groups_joined: list[str]

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        self.groups_joined = await database_sync_to_async(self._groups_for)(user)
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()

    @staticmethod
    def _groups_for(user: Any) -> list[str]:
        if user.is_centre:
            return [CENTRE]
        if user.is_unit_staff and user.unit is not None:
            return [unit_group(user.unit.code)]
        return []

    async def disconnect(self, code: int) -> None:
        for group in getattr(self, "groups_joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def feed_event(self, message: dict[str, Any]) -> None:
        await self.send_json(
            {
                "type": "event",
                "event_id": message["event_id"],
                "ticket_id": message["ticket_id"],
                "action": message["action"],
            }
        )
