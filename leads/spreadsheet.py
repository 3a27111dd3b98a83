"""CSV for people who open it in a spreadsheet: cells that would run as formulas are quoted."""

from __future__ import annotations

import csv
import io
from typing import Any, Iterable, Sequence, TextIO


def safe_cell(value: Any) -> str:
    """The cell as text; one a spreadsheet would read as a formula (``=``, ``+``, ``-``, ``@``) starts with ``'``."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def write_rows(out: TextIO, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """A header and rows, every cell made safe."""
    writer = csv.writer(out)
    writer.writerow([safe_cell(h) for h in header])
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])


def to_text(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """The CSV as one string."""
    buffer = io.StringIO()
    write_rows(buffer, header, rows)
    return buffer.getvalue()
