"""Text out of each published format, as pure functions from bytes to :class:`Extracted`."""

from archive.extract.base import Extracted, ExtractionError
from archive.extract.dispatch import extract

__all__ = ["Extracted", "ExtractionError", "extract"]
