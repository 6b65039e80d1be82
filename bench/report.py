"""What the benchmarks' printed tables share."""

from __future__ import annotations


def row(cells: list[str], widths: list[int]) -> str:
    """One table row: the first cell left-aligned, the figures after it right-aligned."""
    return "  ".join(
        cell.ljust(w) if i == 0 else cell.rjust(w)
        for i, (cell, w) in enumerate(zip(cells, widths, strict=True))
    )
