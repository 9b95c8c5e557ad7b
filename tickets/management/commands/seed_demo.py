"""python manage.py seed_demo — the demo city; running it twice changes nothing.

Refused under production settings unless --allow-production-demo (tickets/demo/guard.py); then
every account it creates gets a random password, printed once here.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from tickets.demo.guard import production_demo_check, production_demo_flag_add
from tickets.demo.seed import demo_seed


class Command(BaseCommand):
    help = "Build the idempotent demo city: units, categories, routing rules, users, tickets."

    def add_arguments(self, parser: CommandParser) -> None:
        production_demo_flag_add(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        production = production_demo_check(allowed=options["allow_production_demo"], command="seed_demo")
        result = demo_seed(random_passwords=production)
        self.stdout.write(
            f"演示数据：{result['units']} 个单位，{result['categories']} 个分类，"
            f"新建工单 {result['tickets_created']} 件"
        )
        if production:
            self.stdout.write("生产设置下的演示服务器：以下随机密码只显示这一次，请妥善保存。")
        self.stdout.write("演示账号（用户名 / 角色 / 密码）：")
        for username, role, password, _ in result["users"]:  # type: ignore[attr-defined]
            self.stdout.write(f"  {username:<28} {role:<24} {password}")
