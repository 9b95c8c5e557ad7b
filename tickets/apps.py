from django.apps import AppConfig


class TicketsConfig(AppConfig):
    name = "tickets"
    verbose_name = "工单"

    def ready(self) -> None:
        # Both modules import models (and the reaction table every domain): wired once the models are loaded.
        from tickets import reactions
        from tickets.accounts import signals

        reactions.install()
        signals.connect()
