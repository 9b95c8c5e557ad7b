from django.apps import AppConfig


class TicketsConfig(AppConfig):
    name = "tickets"
    verbose_name = "工单"

    def ready(self) -> None:
        # The workflow's two ports, wired once the models are loaded (each side imports models):
        # who reacts to which event (the reaction table imports every reacting domain), and the
        # deadline rules it applies in its own transaction (sla's). Then the login signals.
        from tickets import reactions
        from tickets.accounts import signals
        from tickets.core.deadlines import deadlines_install
        from tickets.sla.services.port import SLA_DEADLINES

        reactions.install()
        deadlines_install(SLA_DEADLINES)
        signals.connect()
