"""工单备注与答复模板: internal notes between the centre and the units on a ticket (never shown to the
citizen nor in any citizen-facing output), and each unit's reply templates."""
