"""Typed answers in the run store: codes as before, other kinds beside them, and runs made before typed
answers (store format 1) read as they are and migrated, nothing rewritten, when written to again."""

import sqlite3

import pytest

import silicon_sample as ss
from silicon_sample.answers import Answer, read_stored_value, stored_value, typed_value
from silicon_sample.runner.execute import start_run
from silicon_sample.store.run_store import DB_NAME, RunStore, store_format

from support.scripted_backend import ScriptedBackend
from support.studies import MINI5, write_study

TYPED = [("code", 4), ("number", 72.5), ("text", "about right"), ("selection", (1, 3)), ("ranking", (3, 1, 2)),
         ("selection", ())]


@pytest.mark.parametrize(("kind", "value"), TYPED)
def test_every_kind_of_value_is_stored_and_read_back_as_it_was(kind, value):
    assert read_stored_value(*stored_value(kind, value)) == value
    answer = Answer(request_id="c", status="answered", kind=kind, value=value)
    assert Answer.model_validate_json(answer.model_dump_json()) == answer      # as the response cache keeps it


@pytest.mark.parametrize(("kind", "value", "wrong"), [
    ("code", 2.5, "whole number"), ("number", "ten", "finite number"), ("text", 3, "string"),
    ("selection", [1, 1], "each option once"), ("ranking", "1,2", "list of option codes"),
    ("colour", 1, "unknown answer kind")])
def test_a_value_that_is_not_of_its_kind_is_refused_with_why(kind, value, wrong):
    with pytest.raises(ValueError, match=wrong):
        typed_value(kind, value)


def test_a_selection_is_kept_in_ascending_order_and_a_ranking_in_its_own():
    assert Answer(request_id="c", status="answered", kind="selection", value=[3, 1]).value == (1, 3)
    assert Answer(request_id="c", status="answered", kind="ranking", value=[3, 1]).value == (3, 1)


def _run(tmp_path, n=2):
    study = write_study(tmp_path, n=n, instruments=(MINI5,), item_order="fixed")
    return start_run(study, tmp_path / "run", backend_factory=lambda model: ScriptedBackend())


def _as_format_1(run_dir):
    """The run's database as a run made before typed answers left it: 13 response columns, user_version 0."""
    with sqlite3.connect(run_dir / DB_NAME) as db:
        columns = [row[1] for row in db.execute("PRAGMA table_info(responses)")][:13]
        sql = db.execute("SELECT sql FROM sqlite_master WHERE name = 'responses'").fetchone()[0]
        old = sql.replace(",\n                        value_kind TEXT, value_data TEXT)", ")")
        assert old != sql
        db.execute("ALTER TABLE responses RENAME TO typed")
        db.execute(old)
        db.execute(f"INSERT INTO responses SELECT {', '.join(columns)} FROM typed")
        db.execute("DROP TABLE typed")
        db.execute("PRAGMA user_version = 0")


def test_a_run_made_before_typed_answers_is_read_as_it_is_and_migrated_when_written_to(tmp_path):
    store = _run(tmp_path)
    before = ss.results(store.dir)
    store.close()
    _as_format_1(store.dir)
    old = RunStore.open(store.dir)
    assert store_format(old.db) == 1
    assert ss.results(store.dir).equals(before)                      # read as it is: every value a code
    assert store_format(old.db) == 1                                 # reading changed nothing
    stored = old.read_responses(list(before["cell_id"][:2]))
    assert {c: r["value"] for c, r in stored.items()} == dict(zip(before["cell_id"][:2], before["answer"][:2]))
    old.db.execute("DELETE FROM responses WHERE cell_id = ?", (before["cell_id"][0],))
    old.db.commit()
    old.record(Answer(request_id=before["cell_id"][0], status="answered", value=int(before["answer"][0])), 1)
    assert store_format(old.db) == 2 and old.db.execute("PRAGMA user_version").fetchone()[0] == 2
    after = ss.results(store.dir)                                    # every row kept through the migration
    assert after[["cell_id", "status", "answer"]].equals(before[["cell_id", "status", "answer"]])
    assert after["model_version"].iloc[1:].equals(before["model_version"].iloc[1:])


def test_typed_values_reach_tidy_results_beside_the_codes(tmp_path):
    store = _run(tmp_path, n=1)
    cells = ss.results(store.dir)["cell_id"].tolist()
    store.db.execute("DELETE FROM responses WHERE cell_id IN (?, ?)", cells[:2])
    store.db.commit()
    store.record_many([Answer(request_id=cells[0], status="answered", kind="number", value=72.5),
                       Answer(request_id=cells[1], status="answered", kind="selection", value=[5, 2])], 1)
    long = ss.results(store.dir).set_index("cell_id")
    assert long.loc[cells[0], "answer_value"] == 72.5 and long.loc[cells[1], "answer_value"] == (2, 5)
    assert long.loc[cells[2], "answer_value"] == long.loc[cells[2], "answer"]         # a code is its own value
    assert long.loc[cells[:2], "answer"].isna().all()                               # no code for the others
