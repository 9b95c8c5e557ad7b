"""Create an Open311 api_key for a partner system and print it once."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from tickets.intake.services.partners import partner_key_create


class Command(BaseCommand):
    help = "为合作系统（Open311 客户端）创建 api_key，只显示一次"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="合作方名称")

    def handle(self, *args: Any, **options: Any) -> None:
        key, partner = partner_key_create(name=options["name"])
        self.stdout.write(f"{partner.name}: {key}")
