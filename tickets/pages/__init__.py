"""Server-rendered pages (simplified Chinese)."""
