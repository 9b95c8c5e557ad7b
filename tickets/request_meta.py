"""Facts about an HTTP request that services need: the client's address (rate limits, login
lockouts) and the public scheme/host a reverse proxy saw.

Behind N reverse proxies each one appends the address it received the request from to
X-Forwarded-For, so the last N entries were written by our own proxies and everything to their
left was written by the client, who can put anything there. The client is therefore the entry
N places from the right (`HOTLINE_TRUSTED_PROXY_HOPS`; the rule of werkzeug's ProxyFix and of
uvicorn's/gunicorn's forwarded-allow-ips), never the left-most one: believing the left-most let a
random header per request escape every per-address limit. With 0 hops (nothing in front, the
default) the headers are ignored and REMOTE_ADDR is the client.

This module is the only reader of X-Forwarded-* and REMOTE_ADDR; the web server does not rewrite
REMOTE_ADDR itself (hotline/serve.py), so there is one rule, not two that can disagree.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings

MAX_ADDRESS = 64


def trusted_proxy_hops() -> int:
    return max(0, int(settings.HOTLINE_TRUSTED_PROXY_HOPS))


def forwarded_value(meta: Mapping[str, Any], header: str) -> str:
    """The value of a comma-separated X-Forwarded-* header written by our outermost proxy.

    `header` is the META key (e.g. "HTTP_X_FORWARDED_FOR"). Several header lines of the same name
    arrive joined with commas. "" when no proxy is trusted, or when the header has fewer entries
    than trusted hops (the request did not come through all of them: believe none of it).
    """
    hops = trusted_proxy_hops()
    if hops == 0:
        return ""
    entries = [part.strip() for part in str(meta.get(header, "")).split(",")]
    entries = [part for part in entries if part]
    if len(entries) < hops:
        return ""
    return entries[-hops]


def client_ip_from_meta(meta: Mapping[str, Any]) -> str:
    """The client's address from a request's META (or an ASGI scope turned into one)."""
    forwarded = forwarded_value(meta, "HTTP_X_FORWARDED_FOR")
    return (forwarded or str(meta.get("REMOTE_ADDR", "") or ""))[:MAX_ADDRESS]


def client_ip(request: Any) -> str:
    """The client's address of a Django or DRF request; see the module docstring for the rule."""
    return client_ip_from_meta(request.META)
