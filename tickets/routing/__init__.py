"""按责转办: the place a text names (gazetteer), the classifier's category, the catalogue's decision."""
