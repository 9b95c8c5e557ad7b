"""python manage.py seed_demo — the demo city; running it twice changes nothing."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from tickets.demo.seed import demo_seed


class Command(BaseCommand):
    help = "Build the idempotent demo city: units, categories, routing rules, users, tickets."

    def handle(self, *args: Any, **options: Any) -> None:
        result = demo_seed()
        self.stdout.write(
            f"演示数据：{result['units']} 个单位，{result['categories']} 个分类，"
            f"新建工单 {result['tickets_created']} 件"
        )
        self.stdout.write("演示账号（用户名 / 角色 / 密码）：")
        for username, role, password, _ in result["users"]:  # type: ignore[attr-defined]
            self.stdout.write(f"  {username:<28} {role:<24} {password}")
