"""Fixtures of the privacy tests: the intake's signed Twilio settings and the live feed's helpers."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache

# Re-exported fixtures (pytest finds them by name in this module): signed webhooks with outbound SMS
# kept in the outbox, a clean channel layer per test, API tokens for sockets.
from tests.intake.conftest import _twilio_settings, web  # noqa: F401
from tests.live.conftest import _clean_layer, token  # noqa: F401


@pytest.fixture(autouse=True)
def _citizen_limits(settings: Any) -> None:
    """The stories file many tickets and codes from one address within seconds."""
    settings.VERIFY_CODE_RESEND_SECONDS = 0
    settings.VERIFY_CODE_LIMIT_PER_IP = (100000, 3600)
    settings.VERIFY_CODE_LIMIT_PER_PHONE = (100000, 3600)
    settings.INTAKE_LIMIT_PER_IP = (100000, 3600)
    settings.INTAKE_LIMIT_PER_PHONE = (100000, 3600)
    cache.clear()
