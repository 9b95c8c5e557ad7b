"""Duplicate writes: fingerprints, links, merges, hot-spot scans."""
