"""What goes wrong with a bundle: `Problem` (one located complaint) and `BundleError` (all of them)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a bundle.

    `line` is the 1-based physical line of the CSV file (the header is line 1); None when the
    problem belongs to the file as a whole (a missing file) or cannot be located.
    `column` is the bundle column name, None when the problem is not about one column.
    """

    file: str
    line: int | None
    column: str | None
    reason: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        if self.column is not None:
            return f"{where}: column '{self.column}': {self.reason}"
        return f"{where}: {self.reason}"


class BundleError(Exception):
    """A bundle was rejected; nothing was written. `problems` lists every problem found."""

    def __init__(self, problems: Iterable[Problem], directory: object = None) -> None:
        self.problems: list[Problem] = list(problems)
        self.directory = directory
        super().__init__(self.report())

    def report(self) -> str:
        """A multi-line, human-readable message: a headline, one line per problem, a count."""
        n = len(self.problems)
        noun = "problem" if n == 1 else "problems"
        where = f" {self.directory}" if self.directory is not None else ""
        lines = [f"bundle{where} rejected, nothing was loaded:"]
        lines += [f"  {problem}" for problem in self.problems]
        lines.append(f"{n} {noun} found.")
        return "\n".join(lines)
