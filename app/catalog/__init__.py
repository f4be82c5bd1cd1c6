"""Notes -> typed records (papers, categories, rating scale), queries, reload on change."""
