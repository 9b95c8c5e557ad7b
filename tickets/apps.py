from django.apps import AppConfig


class TicketsConfig(AppConfig):
    name = "tickets"
    verbose_name = "工单"

    def ready(self) -> None:
        from tickets import auth_signals

        auth_signals.connect()
