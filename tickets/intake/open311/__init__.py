"""Open311 GeoReport v2 endpoint for partner systems."""
