"""sla's side of the workflow's deadline port (`tickets.core.deadlines.DeadlinePort`).

Each method is the sla rule itself, named here so that `TicketsConfig.ready` can hand the set to
core; no logic lives in this module.
"""

from __future__ import annotations

from tickets.sla.services import clock, policy


class SlaDeadlines:
    assignment_clocks = staticmethod(policy.assignment_clocks)
    check_return_window = staticmethod(policy.check_return_window)
    check_extension_request = staticmethod(policy.check_extension_request)
    resume_if_paused = staticmethod(clock.resume_if_paused)
    reply_deadline_fields = staticmethod(clock.reply_deadline_fields)


SLA_DEADLINES = SlaDeadlines()
