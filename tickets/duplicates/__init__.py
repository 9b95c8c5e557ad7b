"""重复诉求: duplicate lookup, 并单 links and merges, hot spots (热点)."""
