from django.apps import AppConfig


class TicketsConfig(AppConfig):
    name = "tickets"
    verbose_name = "工单"

    def ready(self) -> None:
        # The reaction table imports every domain, so it is wired here, once the models are loaded.
        from tickets import reactions

        reactions.install()
