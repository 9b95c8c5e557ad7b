"""Production settings: `DJANGO_SETTINGS_MODULE=hotline.settings_production` (README "Production").

The same settings as the hotline/settings/ package (everything comes from the environment), but the
process refuses to start when a secret or a safety switch is missing, instead of falling back to the
development conveniences (a generated key in var/, DEBUG from a stray variable, plain HTTP).
It lives beside the package, not in it, on purpose: a module inside hotline/settings/ would run the
package's __init__ (and so generate a development key in var/) before these checks could refuse.
`manage.py check --deploy` is clean with these settings (tests/security/test_deploy_check.py).
"""

from __future__ import annotations

import os

from django.core.exceptions import ImproperlyConfigured

from hotline.secret_key import GENERATE_HINT, secret_key_weakness


def _require_environment() -> None:
    key = os.environ.get("DJANGO_SECRET_KEY", "")
    if not key:
        raise ImproperlyConfigured(f"生产环境必须设置 DJANGO_SECRET_KEY（用 {GENERATE_HINT} 生成）")
    weakness = secret_key_weakness(key)
    if weakness:
        raise ImproperlyConfigured(f"DJANGO_SECRET_KEY 不安全，拒绝启动：{weakness}。请用 {GENERATE_HINT} 生成新密钥")
    if os.environ.get("DJANGO_DEBUG", "").strip().lower() in {"1", "true", "yes", "on"}:
        raise ImproperlyConfigured("生产环境不得开启 DJANGO_DEBUG")
    if os.environ.get("HOTLINE_DEMO_SHOW_SECRETS", "").strip().lower() in {"1", "true", "yes", "on"}:
        raise ImproperlyConfigured("生产环境不得开启 HOTLINE_DEMO_SHOW_SECRETS（仅供离线演示显示验证码）")
    if not os.environ.get("ALLOWED_HOSTS", "").strip():
        raise ImproperlyConfigured("生产环境必须设置 ALLOWED_HOSTS（对外域名，逗号分隔）")
    tls = os.environ.get("HOTLINE_BEHIND_TLS", "").strip().lower() in {"1", "true", "yes", "on"}
    plain = os.environ.get("HOTLINE_ALLOW_PLAIN_HTTP", "").strip().lower() in {"1", "true", "yes", "on"}
    if not tls and not plain:
        raise ImproperlyConfigured(
            "生产环境应在 TLS 反向代理之后运行：设置 HOTLINE_BEHIND_TLS=1"
            "（仅限无 TLS 的内网部署：HOTLINE_ALLOW_PLAIN_HTTP=1）"
        )


_require_environment()

from hotline.settings import *  # noqa: E402, F403

# Read by code that must behave differently on a production server (e.g. seed_demo refuses to run).
HOTLINE_PRODUCTION = True
