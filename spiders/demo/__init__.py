"""The bundled demo portals: sample reports in every published format, served on loopback."""

from pathlib import Path

DOCUMENTS = Path(__file__).parent / "documents"
