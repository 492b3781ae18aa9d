"""How the reproduction prints its numbers: table entries, durations, Markdown, CSV and LaTeX.

A :class:`Table` holds numbers, not text.  Each entry is a ``str`` (a
label), ``None`` (an empty cell) or one of :class:`Number`,
:class:`Spread`, :class:`SpreadAt`, :class:`Kept`, :class:`Duration`, which keep the number
and say how it is printed; :func:`render` turns them into text only when
the table is printed, so a figure or a test reads the same numbers as the
table shows.
"""
import csv
import dataclasses
import io
from typing import NamedTuple

FORMATS = ("md", "csv", "tex")


class Table(NamedTuple):
    """A header (a list of str) and rows of entries."""

    header: list
    rows: list


@dataclasses.dataclass(frozen=True)
class Number:
    """A number printed as ``format(value, spec) + unit``: ``Number(98.5, "g", " %")`` is "98.5 %"."""

    value: float
    spec: str = ""
    unit: str = ""


@dataclasses.dataclass(frozen=True)
class Spread:
    """Mean ± standard deviation (number of runs) + unit: "97.65 ± 0.11 (5)".

    A single run has no standard deviation ("97.65 ± – (1)"); a number
    published without its count of runs has ``n`` None ("97.65 ± 0.11").
    """

    mean: float
    std: float = None
    n: int = None
    unit: str = ""

    @classmethod
    def of(cls, summary, unit=""):
        """The Spread of a :class:`pynncomp.reproduce.cells.Summary`; None (an empty cell) for None."""
        return None if summary is None else cls(summary.mean, summary.std, summary.n, unit)


@dataclasses.dataclass(frozen=True)
class SpreadAt:
    """A :class:`Spread` and where it was measured: "97.65 ± 0.11 (5) at 89.5 % removed".

    ``SpreadAt(Spread(97.65, 0.11, 5), Number(89.5, ".1f", " % removed"))``.
    """

    spread: Spread
    at: Number


@dataclasses.dataclass(frozen=True)
class Kept:
    """Weights kept of a total and the compression it makes: "21,776 kept (12.2×)"."""

    kept: int
    total: int
    digits: int = 1


@dataclasses.dataclass(frozen=True)
class Duration:
    """A wall time in seconds, printed by :func:`duration`."""

    seconds: float


def percent(fraction):
    """A fraction of weights removed or pruned, as every table prints it: ``percent(0.998)`` is "99.8 %"."""
    return Number(100 * fraction, "g", " %")


def duration(seconds):
    """A wall time for a reader: "45 s", "31.0 min", "1 h 02 min"."""
    if seconds < 59.5:
        return f"{seconds:.0f} s"
    minutes = round(seconds / 60)
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{seconds / 60:.1f} min"


def text(entry):
    """The text of one table entry."""
    if entry is None:
        return ""
    if isinstance(entry, str):
        return entry
    if isinstance(entry, Number):
        return format(entry.value, entry.spec) + entry.unit
    if isinstance(entry, Spread):
        spread = f"{entry.mean:.2f} ± " + ("–" if entry.std is None else f"{entry.std:.2f}")
        return spread + ("" if entry.n is None else f" ({entry.n})") + entry.unit
    if isinstance(entry, SpreadAt):
        return f"{text(entry.spread)} at {text(entry.at)}"
    if isinstance(entry, Kept):
        return f"{entry.kept:,} kept ({entry.total / entry.kept:.{entry.digits}f}×)"
    if isinstance(entry, Duration):
        return duration(entry.seconds)
    raise TypeError(f"a table entry must be None, a str, Number, Spread, SpreadAt, Kept or Duration, got {entry!r}")


def render(table, fmt):
    """The table as Markdown, CSV or LaTeX (booktabs).

    Parameters
    ----------
    table : Table
    fmt : one of :data:`FORMATS`

    Returns
    -------
    str
        Without a final newline.
    """
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, got {fmt!r}")
    header = list(table.header)
    rows = [[text(entry) for entry in row] for row in table.rows]
    if fmt == "md":
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        return "\n".join(lines)
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
        return buffer.getvalue().rstrip("\n")
    lines = [r"\begin{tabular}{" + "l" * len(header) + "}", r"\toprule", " & ".join(map(_tex, header)) + r" \\",
             r"\midrule"]
    lines += [" & ".join(map(_tex, row)) + r" \\" for row in rows]
    lines += [r"\bottomrule", r"\end{tabular}"]
    return "\n".join(lines)


# How a table's title is printed above it, per format.
TITLES = {"md": "**{}**\n", "csv": "# {}", "tex": "% {}"}


def render_titled(titled, fmt):
    """Several tables, each under its title, a blank line between them.

    Parameters
    ----------
    titled : list of (str or None, Table)
        None: a table without a title.
    fmt : one of :data:`FORMATS`

    Returns
    -------
    str
        Without a final newline.
    """
    parts = []
    for title, table in titled:
        rendered = render(table, fmt)
        parts.append(rendered if title is None else TITLES[fmt].format(title) + "\n" + rendered)
    return "\n\n".join(parts)


def _tex(cell):
    return cell.replace("%", r"\%").replace("±", r"$\pm$").replace("Δ", r"$\Delta$").replace("_", r"\_")
