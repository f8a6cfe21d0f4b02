"""Reading one bundle CSV file: decoding, header checks and per-cell parsing, collecting problems.

Nothing here touches the database; cross-file and database checks live in `bundle_load`.
"""

from __future__ import annotations

import contextlib
import csv
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from seed.bundle_errors import Problem
from seed.bundle_spec import ColumnSpec, FileSpec
from seed.bundle_values import (
    CellError,
    Kind,
    parse_bool,
    parse_date,
    parse_enum,
    parse_id,
    parse_int,
    parse_money,
    parse_month,
    parse_text,
    parse_timestamp,
)

UTF8_BOM = b"\xef\xbb\xbf"
_LINE_BREAK = re.compile(rb"\r\n|\r|\n")
"""The same line breaks `csv` counts in `line_num` when reading with newline=''."""


@dataclass
class ParsedRow:
    """One data row: its first physical line and the values (bundle column -> value) that parsed."""

    line: int
    values: dict[str, Any]


@dataclass
class _Reading:
    spec: FileSpec
    problems: list[Problem]
    bad_lines: set[int] = field(default_factory=set)
    reported_lines: set[int] = field(default_factory=set)

    def add(self, line: int | None, column: str | None, reason: str) -> None:
        self.problems.append(Problem(self.spec.name, line, column, reason))


def read_file(path: Path, spec: FileSpec, problems: list[Problem]) -> list[ParsedRow]:
    """Parse `path` as `spec`; append every problem found to `problems` and return the rows."""
    reading = _Reading(spec, problems)
    text = _decode(path.read_bytes(), reading)
    rows = _read_rows(_records(text, reading), reading)
    for line in sorted(reading.bad_lines - reading.reported_lines):
        reading.add(line, None, "is not valid UTF-8")
    return rows


def _decode(data: bytes, reading: _Reading) -> str:
    """Decode UTF-8 (a leading BOM is dropped); record the lines holding invalid bytes."""
    if data.startswith(UTF8_BOM):
        data = data[len(UTF8_BOM) :]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    for number, line in enumerate(_LINE_BREAK.split(data), start=1):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            reading.bad_lines.add(number)
    return data.decode("utf-8", errors="replace")


def _records(text: str, reading: _Reading) -> Iterator[tuple[tuple[int, int], list[str]]]:
    """((first line, last line), fields) of each non-blank record; malformed ones are reported."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    previous = 0
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            reading.add(previous + 1, None, _csv_reason(exc))
            if reader.line_num == previous:
                return  # the reader did not advance: nothing more can be read
            previous = reader.line_num
            continue
        lines = (previous + 1, reader.line_num)
        previous = reader.line_num
        if any(cell.strip() for cell in record):
            yield lines, record


def _csv_reason(error: csv.Error) -> str:
    if "unexpected end of data" in str(error):
        return "a quoted field starting in this record is never closed; the rest of the file was not read"
    return f"is not well-formed CSV ({error}); the record was skipped"


def _read_rows(records: Iterator[tuple[tuple[int, int], list[str]]], reading: _Reading) -> list[ParsedRow]:
    first = next(records, None)
    if first is None:
        reading.add(1, None, "is empty; a header row is required")
        return []
    (header_line, _), header = first
    columns = _check_header([cell.strip() for cell in header], header_line, reading)
    return [_parse_record(record, len(header), columns, lines, reading) for lines, record in records]


def _check_header(header: list[str], line: int, reading: _Reading) -> list[tuple[int, ColumnSpec]]:
    """Report unknown, duplicate and missing columns; return (index, column) of the known ones."""
    spec = reading.spec
    known: list[tuple[int, ColumnSpec]] = []
    seen: set[str] = set()
    for index, name in enumerate(header):
        if not name:
            reading.add(line, None, f"header field {index + 1} is empty")
        elif name in seen:
            reading.add(line, name, "appears more than once in the header")
        elif name not in spec.by_name:
            reading.add(line, name, f"unknown column (allowed: {', '.join(spec.by_name)})")
        else:
            known.append((index, spec.by_name[name]))
        seen.add(name)
    for column in spec.columns:
        if column.required and column.name not in seen:
            reading.add(line, column.name, "required column is missing")
    return known


def _parse_record(
    record: list[str],
    width: int,
    columns: list[tuple[int, ColumnSpec]],
    lines: tuple[int, int],
    reading: _Reading,
) -> ParsedRow:
    first = lines[0]
    values: dict[str, Any] = {}
    if len(record) != width:
        reading.add(first, None, f"has {len(record)} fields but the header has {width}")
        _salvage_id(record, columns, values)
        return ParsedRow(first, values)
    failed: set[str] = set()
    present = {column.name for _, column in columns}
    for index, column in columns:
        raw = record[index]
        if "\ufffd" in raw and _touches_bad_line(lines, reading):
            reading.add(first, column.name, "is not valid UTF-8")
            failed.add(column.name)
            continue
        try:
            values[column.name] = parse_cell(reading.spec, column, raw)
        except CellError as exc:
            reading.add(first, column.name, str(exc))
            failed.add(column.name)
    for column in reading.spec.columns:
        if column.name not in present:
            values[column.name] = column.default
            if column.required:
                failed.add(column.name)
    for check in reading.spec.row_checks:
        for name, reason in check(values):
            if name not in failed:
                reading.add(first, name, reason)
                failed.add(name)
    return ParsedRow(first, values)


def _touches_bad_line(lines: tuple[int, int], reading: _Reading) -> bool:
    touched = {line for line in range(lines[0], lines[1] + 1) if line in reading.bad_lines}
    reading.reported_lines |= touched
    return bool(touched)


def _salvage_id(record: list[str], columns: list[tuple[int, ColumnSpec]], values: dict[str, Any]) -> None:
    """Keep the id of a malformed row so rows referring to it do not add follow-on problems."""
    for index, column in columns:
        if column.kind is Kind.ID and index < len(record):
            with contextlib.suppress(CellError):
                values[column.name] = parse_id(record[index])


def parse_cell(spec: FileSpec, column: ColumnSpec, raw: str) -> Any:
    """The value of one cell; an empty (or blank) cell is NULL, or an error when required."""
    if not raw.strip():
        if column.required:
            raise CellError("required value is missing")
        return column.default
    kind = column.kind
    if kind is Kind.TEXT:
        return parse_text(raw, spec.max_lengths.get(column.name))
    if kind is Kind.ENUM:
        return parse_enum(raw, column.choices)
    if kind is Kind.INT:
        return parse_int(raw, column.low, column.high)
    return _PARSERS[kind](raw)


_PARSERS: dict[Kind, Callable[[str], Any]] = {
    Kind.ID: parse_id,
    Kind.REF: parse_id,
    Kind.MONEY: parse_money,
    Kind.DATE: parse_date,
    Kind.MONTH: parse_month,
    Kind.TIMESTAMP: parse_timestamp,
    Kind.BOOL: parse_bool,
}
