"""What every text of a JSON body must be: free of control characters. PostgreSQL refuses NUL,
an XLSX register cannot hold the others, and the file imports reject such a row; so does the
API, with a 422 naming the field. Line breaks and tabs are not control characters here."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator

from nastavnik.registry.intake import values

Printable = AfterValidator(values.printable)
PrintableText = Annotated[str, Printable]  # a text with no constraint but this one
