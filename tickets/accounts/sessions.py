"""Session engine (SESSION_ENGINE): Django's database sessions, stored in `StaffSession` with the
signed-in user's id in a column of its own, so revoking a user deletes every one of their
sessions (tickets/accounts/services.py) instead of leaving them to expire."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore as DbSessionStore


class SessionStore(DbSessionStore):
    @classmethod
    def get_model_class(cls) -> Any:
        from tickets.accounts.models import StaffSession  # the app registry is ready by the first request

        return StaffSession

    def create_model_instance(self, data: dict[str, Any]) -> Any:
        obj: Any = super().create_model_instance(data)
        try:
            obj.user_id = int(data[SESSION_KEY])
        except (KeyError, TypeError, ValueError):
            obj.user_id = None
        return obj
