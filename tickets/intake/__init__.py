"""统一接收: every channel into the ticket store (phone, SMS, citizen pages and app, Open311)."""
