"""Knowledge writes and search: articles, proposals, BM25 search."""
