"""Long operations started from a page (retraining, calendar import), with progress."""
