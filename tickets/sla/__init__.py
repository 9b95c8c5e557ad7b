"""限时办结: SLA policies and the city profile, working-day calendar, deadlines, clocks, gap alerts."""
