"""Datasette plugin and pages for policy-kb (entry point ``policykb = "extractor.web.plugin"``)."""
