"""The leads command line, against a real SQLite file."""

from __future__ import annotations

import csv
import io
import json

import pytest

from leads.cli import main
from leads.storage.db import session_scope
from leads.storage.repository import save_lead
from tests.samples import lead


@pytest.fixture
def sqlite_env(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("LEADS_OUTBOX_DIR", str(tmp_path / "outbox"))
    main(["list"], out=io.StringIO())  # migrates
    with session_scope(url) as session:
        lead_id = save_lead(session, lead("c1", need={"summary": '=HYPERLINK("x")', "category": None})).id
        save_lead(session, lead("c2", finished=False, contact={"email": "other@acme.com"}))
    return lead_id


def run(*argv):
    out = io.StringIO()
    code = main(list(argv), out=out)
    return code, out.getvalue()


def test_list_show_and_filters(sqlite_env):
    code, text = run("list")
    assert code == 0 and len(text.strip().splitlines()) == 2
    assert len(run("list", "--status", "partial")[1].strip().splitlines()) == 1
    code, text = run("show", sqlite_env)
    assert code == 0 and json.loads(text)["conversation_id"] == "c1"
    assert run("show", "missing")[0] == 1


def test_export_csv_and_json(sqlite_env, tmp_path):
    code, text = run("export", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert code == 0 and len(rows) == 2
    row = next(r for r in rows if r["Conversation id"] == "c1")
    assert row["Need"].startswith("'=")  # never runs as a spreadsheet formula
    assert "Ben (IT contractor), may push back: he'll say it's a security risk" in row["Who takes part in the decision"]
    assert row["Role in the decision"] == "Recommends" and row["What matters to them"] == "lower costs"
    assert row["Status"] == "Qualified" and row["Interest"] == "Comparing options"
    code, text = run("export", "--format", "csv", "--language", "pl")
    polish = next(r for r in csv.DictReader(io.StringIO(text)) if r["Identyfikator rozmowy"] == "c1")
    assert polish["Rola w decyzji"] == "Rekomenduje" and polish["Kanał"] == "API"
    out = tmp_path / "leads.json"
    assert run("export", "--format", "json", "--out", str(out))[0] == 0
    assert {l["conversation_id"] for l in json.loads(out.read_text())} == {"c1", "c2"}


def test_erase_a_person(sqlite_env):
    code, text = run("erase", "TOM@greenleafdental.com")
    assert code == 0 and "leads: 1" in text and "tom@" not in text.lower()
    assert len(run("list")[1].strip().splitlines()) == 1
    with pytest.raises(SystemExit):  # neither an e-mail nor a phone number
        main(["erase", "Tom"])


def test_bad_filter_is_a_clear_error(sqlite_env, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["list", "--status", "hot"])
    assert exit_info.value.code == 2
    assert "'status' must be one of" in capsys.readouterr().err
