"""The data files of ``extractor/data/`` loaded and validated once: campaigns and headings
(``base``), units, comparators, statement cues and indicators (``cues``)."""
