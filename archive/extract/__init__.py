"""Text out of each published format, as pure functions from bytes to :class:`Extracted`."""

from archive.errors import ExtractionError
from archive.extract.base import Extracted
from archive.extract.dispatch import extract

__all__ = ["Extracted", "ExtractionError", "extract"]
