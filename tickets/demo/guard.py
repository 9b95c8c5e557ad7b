"""Demo data on a production server (issue 14, finding 11).

`seed_demo` makes accounts whose passwords are printed in the README (`admin/admin-12345`) and
fictitious tickets; `seed_bulk` writes millions of generated tickets with index and FK checks off.
Under production settings (`HOTLINE_PRODUCTION`, set by hotline/settings_production.py — a flag,
not the module's name, so a site's own settings module that builds on it is covered too) both
refuse unless the operator says this server is a demo with --allow-production-demo; seed_demo then
gives every account it creates a random password and prints it.
"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import CommandError, CommandParser

FLAG = "--allow-production-demo"


def production_demo_flag_add(parser: CommandParser) -> None:
    parser.add_argument(
        FLAG,
        action="store_true",
        dest="allow_production_demo",
        help="在生产设置下也写入演示数据（仅限演示服务器）；演示账号使用随机密码",
    )


def production_demo_check(*, allowed: bool, command: str) -> bool:
    """True on a production server whose operator allowed demo data; refuses there otherwise."""
    if not settings.HOTLINE_PRODUCTION:
        return False
    if not allowed:
        raise CommandError(
            f"{command} 会写入演示账号和虚构工单，生产环境（HOTLINE_PRODUCTION）拒绝运行。"
            f"仅当这台服务器专用于演示时，加 {FLAG}（演示账号将使用随机密码）。"
        )
    return True
