"""Text out of each published format, as pure functions from bytes to :class:`Extracted`.

Imports only archive.errors; never the catalog, the parser or Scrapy.
"""

from archive.errors import ExtractionError
from archive.extract.base import Extracted
from archive.extract.dispatch import extract

__all__ = ["Extracted", "ExtractionError", "extract"]
