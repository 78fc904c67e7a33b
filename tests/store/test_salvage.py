"""Reading a damaged SQLite file page by page: every row of an intact file, exactly as SQLite reads it; the
rows of the pages a damaged file still holds; nothing invented."""

import os
import sqlite3

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from silicon_sample.store.salvage import salvage

values = st.one_of(st.none(), st.integers(min_value=-2**63, max_value=2**63 - 1),
                   st.floats(allow_nan=False), st.text(max_size=3000), st.binary(max_size=6000))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(values, values, values), min_size=0, max_size=60),
       page_size=st.sampled_from([512, 1024, 4096, 65536]))
def test_an_intact_file_reads_exactly_as_sqlite_reads_it(tmp_path, rows, page_size):
    path = tmp_path / f"db-{page_size}-{len(rows)}.sqlite"
    path.unlink(missing_ok=True)
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA page_size = {page_size}")
        db.execute("CREATE TABLE t (a, b, c)")
        db.execute("CREATE TABLE s (session INTEGER PRIMARY KEY, name TEXT)")
        db.executemany("INSERT INTO t VALUES (?, ?, ?)", rows)
        db.executemany("INSERT INTO s (name) VALUES (?)", [("first",), ("second",)])
    with sqlite3.connect(path) as db:
        expected = db.execute("SELECT * FROM t ORDER BY rowid").fetchall()
    found = salvage(path)
    assert found.rows["t"] == expected and found.unreadable_pages == 0
    assert found.rows["s"] == [(1, "first"), (2, "second")]          # INTEGER PRIMARY KEY is the rowid
    assert found.sql["t"] == "CREATE TABLE t (a, b, c)"


def _table(path, n=20000):
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE r (id TEXT PRIMARY KEY, text TEXT, n INTEGER)")
        db.executemany("INSERT INTO r VALUES (?, ?, ?)",
                       [(f"cell/{i:06d}", "x" * (i % 50) * (300 if i % 97 == 0 else 1), i) for i in range(n)])
        return db.execute("SELECT * FROM r ORDER BY rowid").fetchall()


def test_a_truncated_file_gives_the_rows_of_its_remaining_pages_where_sqlite_gives_none(tmp_path):
    path = tmp_path / "t.sqlite"
    rows = _table(path)
    with open(path, "r+b") as handle:
        handle.truncate(path.stat().st_size // 2)
    with sqlite3.connect(path) as db:
        try:
            db.execute("SELECT COUNT(*) FROM r").fetchone()
            sqlite_reads = True
        except sqlite3.DatabaseError:
            sqlite_reads = False
    found = salvage(path)
    assert not sqlite_reads
    assert 0.3 * len(rows) < len(found.rows["r"]) < 0.7 * len(rows) and found.unreadable_pages > 0
    assert set(found.rows["r"]) <= set(rows)                          # only rows that were written


def test_pages_overwritten_in_the_middle_lose_their_rows_only(tmp_path):
    path = tmp_path / "t.sqlite"
    rows = _table(path)
    with open(path, "r+b") as handle:
        handle.seek(4096 * 300)
        handle.write(os.urandom(4096 * 3))
    found = salvage(path)
    assert len(rows) - 400 < len(found.rows["r"]) < len(rows) and found.unreadable_pages >= 1
    assert set(found.rows["r"]) <= set(rows)


def test_answers_still_in_the_write_ahead_log_are_read(tmp_path):
    path = tmp_path / "t.sqlite"
    keep = sqlite3.connect(path)
    keep.execute("PRAGMA journal_mode=WAL")
    keep.execute("PRAGMA wal_autocheckpoint=0")
    keep.execute("CREATE TABLE r (id TEXT PRIMARY KEY, n INTEGER)")
    keep.executemany("INSERT INTO r VALUES (?, ?)", [(f"c{i}", i) for i in range(300)])
    keep.commit()
    assert (tmp_path / "t.sqlite-wal").stat().st_size > 0             # the rows are in the log, not the file
    found = salvage(path)
    keep.close()
    assert found.wal_applied and len(found.rows["r"]) == 300


def test_a_file_that_is_not_sqlite_gives_nothing_and_says_so(tmp_path):
    path = tmp_path / "t.sqlite"
    path.write_bytes(os.urandom(8192))
    found = salvage(path)
    assert not found.schema_readable and found.rows == {}
