"""Stage 5, statements: every quantity understood as a ``Target`` (indicator, comparator, kind,
year, base year, campaign), cited by source offsets.

Entry function: :func:`extract_targets`.
"""

from extractor.statements.assemble import extract_targets

__all__ = ["extract_targets"]
