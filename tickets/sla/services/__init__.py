"""SLA writes and reads: policies, clocks, the calendar table, admin alerts."""
