"""The case register over HTTP (engine/web/routers/register.py), on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient

from engine.web.app import create_app
from engine.web.settings import Settings
from test_register import where  # noqa: F401 — the register's location on each back end

KB = Path(__file__).resolve().parents[1] / "kb"
PROFILE = yaml.safe_load((KB / "examples" / "new_ict_key_enterprise.yaml").read_text(encoding="utf-8"))


def _plain(value):
    return value.isoformat() if hasattr(value, "isoformat") else value


@pytest.fixture
def client(where, tmp_path):
    app = create_app(Settings(data_dir=tmp_path / "serve", register=where))
    with TestClient(app, raise_server_exceptions=False, base_url="http://127.0.0.1") as test_client:
        yield test_client


def _profile() -> dict:
    return {k: _plain(v) for k, v in PROFILE.items()}


def test_save_record_and_verify_over_http(client):
    added = client.post("/api/cases", json={"profile": _profile(), "notes": "来访", "by": "analyst-1"})
    assert added.status_code == 201, added.text
    case = added.json()
    assert case["name"] == PROFILE["name"] and case["version"] == 1 and case["created_by"] == "analyst-1"
    recorded = client.post(f"/api/cases/{case['id']}/records", json={"note": "首次评估"})
    assert recorded.status_code == 201, recorded.text
    record = recorded.json()
    evaluated = client.post("/api/evaluate", json={"profile": _profile()}).json()
    assert record["result"] == evaluated                # the very result the API gives
    shown = client.get(f"/api/cases/{case['id']}").json()
    assert [r["seq"] for r in shown["records"]] == [record["seq"]] and len(shown["edits"]) == 1
    assert client.get("/api/register/verify").json()["ok"] is True
    listed = client.get("/api/cases", params={"search": PROFILE["name"][2:5]}).json()
    assert [c["id"] for c in listed] == [case["id"]]


def test_two_analysts_editing_one_case_the_second_gets_409(client):
    case = client.post("/api/cases", json={"profile": _profile()}).json()
    first = client.put(f"/api/cases/{case['id']}", json={"profile": dict(_profile(), name="甲"), "version": 1})
    assert first.status_code == 200 and first.json()["version"] == 2
    second = client.put(f"/api/cases/{case['id']}", json={"profile": dict(_profile(), name="乙"), "version": 1})
    assert second.status_code == 409 and set(second.json()) == {"error"}
    assert client.get(f"/api/cases/{case['id']}").json()["case"]["profile"]["name"] == "甲"   # not lost


def test_a_bad_profile_is_not_saved_and_an_unknown_case_is_404(client):
    bad = client.post("/api/cases", json={"profile": {"industry": "not-an-industry"}})
    assert bad.status_code == 400 and bad.json()["field"] == "industry"
    assert client.get("/api/cases").json() == []
    missing = client.get("/api/cases/999")
    assert missing.status_code == 404 and set(missing.json()) == {"error", "suggestion"}


def test_without_a_register_the_endpoints_say_how_to_start_one(tmp_path):
    app = create_app(Settings(data_dir=tmp_path / "serve"))
    with TestClient(app, raise_server_exceptions=False, base_url="http://127.0.0.1") as client:
        answer = client.get("/api/cases")
        assert answer.status_code == 503 and "--register" in answer.json()["error"]


def test_a_batch_upload_can_save_every_readable_row_as_a_case(client):
    import re
    import time
    rows = "id,name,industry\n1,甲公司,ict\n2,乙公司,not-an-industry\n3,丙公司,ict\n"
    page = client.post("/ui/batch?lang=en", files={"file": ("list.csv", rows.encode(), "text/csv")},
                       data={"output": "csv", "save_cases": "1"}, headers={"origin": "http://127.0.0.1"})
    job = re.search(r"/ui/batch/([A-Za-z0-9_-]+)\?", page.text).group(1)
    deadline = time.monotonic() + 60
    while 'data-state="done"' not in (page := client.get(f"/ui/batch/{job}?lang=en").text):
        assert time.monotonic() < deadline and 'data-state="failed"' not in page, page
        time.sleep(0.2)
    assert 'data-saved="2"' in page and "2 rows saved as cases" in page
    assert {c["name"] for c in client.get("/api/cases").json()} == {"甲公司", "丙公司"}
    assert "save_cases" in client.get("/batch?lang=en").text      # offered only with a register
