"""Reading the rows a damaged SQLite file still holds, page by page.

SQLite stops at the first damaged page it meets (a truncated file fails on its first query), so the rows a
damaged run store still holds are read here from the file's pages, following the format SQLite documents
(https://www.sqlite.org/fileformat2.html):

- page 1 begins with the 100-byte header (page size at offset 16, bytes reserved per page at offset 20) and
  holds the schema table ``sqlite_master`` (type, name, tbl_name, rootpage, sql);
- each table is a b-tree from its root page: interior pages (type 5) list child pages, leaf pages (type 13)
  hold the rows as (payload size, rowid, record), a payload larger than the page continuing on a chain of
  overflow pages;
- a record is a header of serial types (0 NULL, 1–6 big-endian integers of 1, 2, 3, 4, 6, 8 bytes, 7 a
  float64, 8 and 9 the integers 0 and 1, even ≥ 12 a blob, odd ≥ 13 UTF-8 text) followed by the values; a
  column declared ``INTEGER PRIMARY KEY`` is stored as NULL and is the rowid.

Every page that cannot be read (beyond the end of a truncated file, a wrong type, a cell pointer out of the
page, a broken overflow chain) is skipped and counted; the rows of the pages that can be read are returned.
A row is only as good as its page: the caller checks each row against its table's schema.

Pages still in the write-ahead log (``responses.sqlite-wal``) are first applied by SQLite itself to a copy
of the file (a checkpoint), when SQLite can open the copy; otherwise the main file alone is read.
Python's ``sqlite3`` module has no recovery API and SQLite's own ``.recover`` lives in its command-line
shell, which is not always installed: hence this reader.
"""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
import struct
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

HEADER = b"SQLite format 3\x00"
TABLE_INTERIOR, TABLE_LEAF = 5, 13


@dataclass
class Salvage:
    """What could be read: each table's rows (tuples in column order), its ``CREATE`` statement, and the
    pages that could not be read."""

    rows: dict[str, list[tuple]] = field(default_factory=dict)
    sql: dict[str, str] = field(default_factory=dict)
    unreadable_pages: int = 0
    wal_applied: bool = False
    schema_readable: bool = True


class _Unreadable(Exception):
    pass


def _varint(data: bytes, at: int) -> tuple[int, int]:
    value = 0
    for i in range(9):
        if at + i >= len(data):
            raise _Unreadable("varint runs past the page")
        byte = data[at + i]
        if i == 8:
            return (value << 8) | byte, at + 9
        value = (value << 7) | (byte & 0x7F)
        if byte < 0x80:
            return value, at + i + 1
    raise _Unreadable("varint")  # pragma: no cover - the loop always returns


_INT_SIZES = {1: 1, 2: 2, 3: 3, 4: 4, 5: 6, 6: 8}


def _record(payload: bytes) -> tuple:
    header_size, at = _varint(payload, 0)
    if header_size > len(payload):
        raise _Unreadable("record header runs past the payload")
    types = []
    while at < header_size:
        serial, at = _varint(payload, at)
        types.append(serial)
    values, at = [], header_size
    for serial in types:
        if serial == 0:
            values.append(None)
        elif serial in _INT_SIZES:
            size = _INT_SIZES[serial]
            values.append(int.from_bytes(payload[at:at + size], "big", signed=True))
            at += size
        elif serial == 7:
            values.append(struct.unpack(">d", payload[at:at + 8])[0])
            at += 8
        elif serial in (8, 9):
            values.append(serial - 8)
        elif serial >= 12:
            size = (serial - 12) // 2
            chunk = payload[at:at + size]
            values.append(bytes(chunk) if serial % 2 == 0 else chunk.decode("utf-8"))
            at += size
        else:
            raise _Unreadable(f"reserved serial type {serial}")
        if at > len(payload):
            raise _Unreadable("record runs past the payload")
    return tuple(values)


class _Pages:
    def __init__(self, data: bytes):
        if data[:16] != HEADER:
            raise _Unreadable("no SQLite header")
        size = struct.unpack(">H", data[16:18])[0]
        self.size = 65536 if size == 1 else size
        if self.size < 512 or self.size & (self.size - 1):
            raise _Unreadable(f"page size {self.size}")
        self.usable = self.size - data[20]
        self.data = data
        self.count = len(data) // self.size

    def page(self, number: int) -> bytes:
        if not 1 <= number <= self.count:
            raise _Unreadable(f"page {number} is beyond the end of the file")
        return self.data[(number - 1) * self.size:number * self.size]

    def payload(self, page: bytes, at: int, size: int) -> bytes:
        usable = self.usable
        most = usable - 35
        if size <= most:
            return page[at:at + size]
        least = (usable - 12) * 32 // 255 - 23
        local = least + (size - least) % (usable - 4)
        local = local if local <= most else least
        parts, seen = [page[at:at + local]], set()
        (overflow,) = struct.unpack(">I", page[at + local:at + local + 4])
        remaining = size - local
        while remaining > 0:
            if overflow in seen:
                raise _Unreadable("overflow chain loops")
            seen.add(overflow)
            chunk = self.page(overflow)
            (overflow,) = struct.unpack(">I", chunk[:4])
            parts.append(chunk[4:4 + min(remaining, usable - 4)])
            remaining -= usable - 4
        return b"".join(parts)

    def table_rows(self, root: int, salvage: Salvage) -> list[tuple[int, tuple]]:
        """(rowid, record) of every leaf reachable from ``root``; pages that cannot be read are counted."""
        rows, stack, seen = [], [root], set()
        while stack:
            number = stack.pop()
            if number in seen:
                continue
            seen.add(number)
            try:
                page = self.page(number)
                start = 100 if number == 1 else 0
                kind = page[start]
                cells = struct.unpack(">H", page[start + 3:start + 5])[0]
                if kind == TABLE_INTERIOR:
                    pointers = start + 12
                    children = [struct.unpack(">I", page[start + 8:start + 12])[0]]
                    for i in range(cells):
                        (offset,) = struct.unpack(">H", page[pointers + 2 * i:pointers + 2 * i + 2])
                        children.append(struct.unpack(">I", page[offset:offset + 4])[0])
                    stack.extend(reversed(children))
                    continue
                if kind != TABLE_LEAF:
                    raise _Unreadable(f"page {number} is not a table page (type {kind})")
                found = []
                for i in range(cells):
                    (offset,) = struct.unpack(">H", page[start + 8 + 2 * i:start + 10 + 2 * i])
                    if not start + 8 <= offset < len(page):
                        raise _Unreadable("cell pointer outside the page")
                    size, at = _varint(page, offset)
                    rowid, at = _varint(page, at)
                    found.append((rowid, _record(self.payload(page, at, size))))
                rows.extend(found)
            except (_Unreadable, struct.error, UnicodeDecodeError, IndexError):
                salvage.unreadable_pages += 1
        return rows


def _with_wal_applied(path: Path, folder: Path) -> Path | None:
    """A copy of ``path`` with its write-ahead log checkpointed into it by SQLite, or None when SQLite cannot
    (the copy's header or schema is damaged) or there is no log."""
    wal = path.with_name(path.name + "-wal")
    if not wal.is_file() or wal.stat().st_size == 0:
        return None
    copy = folder / path.name
    shutil.copyfile(path, copy)
    shutil.copyfile(wal, folder / wal.name)
    try:
        with contextlib.closing(sqlite3.connect(copy)) as db:
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    except sqlite3.DatabaseError:
        return None
    return copy


def salvage(path: str | Path) -> Salvage:
    """Every row that can still be read from the SQLite file ``path`` (see the module docstring)."""
    path = Path(path)
    result = Salvage()
    with tempfile.TemporaryDirectory(prefix="silicon-sample-salvage-") as tmp:
        applied = _with_wal_applied(path, Path(tmp))
        result.wal_applied = applied is not None
        data = (applied or path).read_bytes()
    try:
        pages = _Pages(data)
        master = pages.table_rows(1, result)
    except (_Unreadable, struct.error, IndexError):
        result.schema_readable = False
        return result
    if not master:
        result.schema_readable = False
    for _, row in master:
        if len(row) != 5 or row[0] != "table" or not isinstance(row[3], int) or row[1].startswith("sqlite_"):
            continue
        name, root, sql = row[1], row[3], row[4]
        integer_key = _integer_primary_key(sql)
        rows = []
        for rowid, values in sorted(pages.table_rows(root, result)):
            if integer_key is not None and integer_key < len(values) and values[integer_key] is None:
                values = (*values[:integer_key], rowid, *values[integer_key + 1:])
            rows.append(values)
        result.rows[name], result.sql[name] = rows, sql
    return result


def _integer_primary_key(sql: str) -> int | None:
    """The position of a column declared ``name INTEGER PRIMARY KEY`` (stored as the rowid), if any."""
    body = sql[sql.index("(") + 1:sql.rindex(")")] if "(" in sql else ""
    depth, column, start = 0, 0, 0
    for i, char in enumerate(body + ","):
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "," and depth == 0:
            words = body[start:i].upper().split()
            if words[:1] and words[0] in ("PRIMARY", "UNIQUE", "CHECK", "FOREIGN", "CONSTRAINT"):
                return None
            if words[1:4] == ["INTEGER", "PRIMARY", "KEY"]:
                return column
            column, start = column + 1, i + 1
    return None
