"""Stage 3, structure: the analysis text -> ``Structure`` (section tree, campaigns, task clauses).

Entry function: :func:`parse_structure`.
"""

from extractor.structure.parser import Structure, parse_structure

__all__ = ["Structure", "parse_structure"]
