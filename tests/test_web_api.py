"""The HTTP API of ``policykb serve`` (shared/spec/api.md): every endpoint, its error bodies, the
equality of ``POST /api/evaluate`` with ``policykb eval --format json``, and a real server
process — 200 concurrent distinct profiles, a dying engine replaced, limits, a clean stop."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import yaml
from fastapi.testclient import TestClient

import engine
from engine.authoring.scenarios import load_scenarios
from engine.loading.schemas import profile_schema
from engine.web.app import create_app
from engine.web.settings import Settings
from engine.web.testing import running_server

REPO = Path(__file__).resolve().parent.parent
ERROR_KEYS = {"error", "field", "suggestion", "allowed"}


def plain(value):
    """YAML data as JSON data (dates as ISO text), as a script would send it."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()[:10]
    return value


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    settings = Settings(kb=str(REPO / "kb"), data_dir=tmp_path_factory.mktemp("serve"))
    with TestClient(create_app(settings), raise_server_exceptions=False, base_url="http://127.0.0.1") as test_client:
        yield test_client


@pytest.fixture(scope="module")
def kb():
    return engine.load(REPO / "kb")


def examples(kb):
    return sorted(p for p in kb.examples_dir.iterdir() if p.suffix in (".yaml", ".yml", ".json"))


# --------------------------------------------------------------------------- endpoints

def test_healthz_names_the_knowledge_base_version(client, kb):
    answer = client.get("/healthz")
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok", "kb_version": kb.version}


def test_api_kb_describes_documents_facts_conclusions_and_benefits(client, kb):
    data = client.get("/api/kb").json()
    assert [d["id"] for d in data["documents"]] == list(kb.documents)
    facts = {f["id"]: f for f in data["facts"]}
    assert set(facts) == set(kb.facts)
    industry = facts["industry"]
    assert industry["type"] == "enum" and {v["id"] for v in industry["values"]} == set(kb.facts["industry"].values)
    assert industry["zh"] == kb.facts["industry"].zh and industry["en"] == kb.facts["industry"].en
    assert industry["article"] == kb.facts["industry"].source
    assert facts["paid_in_capital"]["unit"] == "CNY"
    assert {b["id"] for b in data["benefits"]} == set(kb.benefits)
    assert "support_target" in {c["id"] for c in data["conclusions"]}


def test_profile_schema_is_the_command_line_schema(client, kb):
    assert client.get("/api/schema/profile").json() == profile_schema(kb)


def test_openapi_describes_every_endpoint_with_the_profile_schema(client):
    spec = client.get("/openapi.json").json()
    assert spec["openapi"].startswith("3.")
    for path in ("/healthz", "/api/kb", "/api/schema/profile", "/api/evaluate", "/api/why", "/api/why-not"):
        assert path in spec["paths"], path
    schemas = spec["components"]["schemas"]
    assert "paid_in_capital" in schemas["Profile"]["properties"]
    body = spec["paths"]["/api/evaluate"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/EvaluateRequest"}
    assert schemas["EvaluateRequest"]["properties"]["profile"] == {"$ref": "#/components/schemas/Profile"}


def test_no_docs_page_that_would_load_from_a_cdn(client):
    assert client.get("/docs").status_code == 404


def test_evaluate_equals_the_command_line_for_every_example(client, kb):
    for path in examples(kb):
        printed = subprocess.run([sys.executable, "-m", "engine.cli", "eval", str(path), "--format", "json",
                                  "--kb", str(REPO / "kb")], cwd=REPO, capture_output=True, text=True,
                                 encoding="utf-8", check=True).stdout
        profile = plain(yaml.safe_load(path.read_text(encoding="utf-8")))
        answer = client.post("/api/evaluate", json={"profile": profile})
        assert answer.status_code == 200, (path.name, answer.text)
        assert answer.json() == json.loads(printed), path.name


def test_evaluate_equals_engine_evaluate_for_every_scenario(client, kb):
    scenarios = load_scenarios(kb)
    assert len(scenarios) > 100
    for scenario in scenarios:
        profile = plain(scenario.profile)
        as_of = plain(scenario.as_of) if scenario.as_of is not None else None
        body = {"profile": profile} if as_of is None else {"profile": profile, "as_of": as_of}
        answer = client.post("/api/evaluate", json=body)
        try:
            expected = engine.evaluate(profile, as_of=as_of, kb=kb)
        except engine.ProfileError:
            assert answer.status_code == 400, scenario.name
            continue
        assert answer.status_code == 200, (scenario.name, answer.text)
        assert answer.json() == expected, scenario.name


def test_why_and_why_not_equal_the_command_line(client, kb):
    path = kb.examples_dir / "new_ict_key_enterprise.yaml"
    profile = plain(yaml.safe_load(path.read_text(encoding="utf-8")))
    for command, endpoint, ident in (("why", "/api/why", "settlement_subsidy"),
                                     ("why-not", "/api/why-not", "listing_grant"),
                                     ("why", "/api/why", "listing_grant")):
        for lang in ("zh", "en"):
            printed = subprocess.run([sys.executable, "-m", "engine.cli", command, str(path), ident, "--format", "json",
                                      "--lang", lang, "--kb", str(REPO / "kb")], cwd=REPO, capture_output=True,
                                     text=True, encoding="utf-8", check=True).stdout
            answer = client.post(endpoint, json={"profile": profile, "id": ident, "lang": lang})
            assert answer.status_code == 200, answer.text
            assert answer.json() == json.loads(printed), (command, ident, lang)


# --------------------------------------------------------------------------- errors

def _error(answer, status):
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/json")
    body = answer.json()
    if status in (400, 422):
        assert set(body) == ERROR_KEYS
    assert "Traceback" not in answer.text
    return body


def test_unknown_fact_names_the_nearest(client):
    body = _error(client.post("/api/evaluate", json={"profile": {"paid_in_captial": "1亿元"}}), 400)
    assert body == {"error": "unknown fact 'paid_in_captial' (did you mean 'paid_in_capital'?)",
                    "field": "paid_in_captial", "suggestion": "paid_in_capital", "allowed": None}


def test_value_outside_an_enum_lists_the_allowed_values(client, kb):
    body = _error(client.post("/api/evaluate", json={"profile": {"industry": "fintech"}}), 400)
    assert body["field"] == "industry"
    assert body["allowed"] == list(kb.facts["industry"].values)
    assert body["error"].startswith("industry: 'fintech' is not one of its values")


def test_bad_money_and_bad_as_of(client):
    body = _error(client.post("/api/evaluate", json={"profile": {"paid_in_capital": "500万美元"}}), 400)
    assert body["field"] == "paid_in_capital"
    body = _error(client.post("/api/evaluate", json={"profile": {}, "as_of": "2021-02-30"}), 400)
    assert body["field"] == "as_of" and body["error"].startswith("as_of:")


def test_malformed_json(client):
    body = _error(client.post("/api/evaluate", content=b'{"profile": {"industry": "ict"}',
                              headers={"content-type": "application/json"}), 400)
    assert body["error"].startswith("malformed JSON")


def test_non_utf8_body(client):
    body = _error(client.post("/api/evaluate", content='{"profile": {"name": "企业"}}'.encode("gbk"),
                              headers={"content-type": "application/json"}), 400)
    assert "UTF-8" in body["error"]


def test_two_hundred_levels_of_nesting(client):
    deep = "[" * 200 + "]" * 200
    body = _error(client.post("/api/evaluate", content=('{"profile": {"name": %s}}' % deep).encode(),
                              headers={"content-type": "application/json"}), 400)
    assert "nested deeper" in body["error"]


def test_a_ten_mebibyte_body_is_refused_with_413(client):
    big = b'{"profile": {"name": "' + b"x" * (10 * 1024 * 1024) + b'"}}'
    answer = client.post("/api/evaluate", content=big, headers={"content-type": "application/json"})
    assert answer.status_code == 413
    assert "5 MiB" in answer.json()["error"]


def test_missing_or_misspelt_request_fields_are_422(client):
    body = _error(client.post("/api/evaluate", json={"profle": {}}), 422)
    assert body["suggestion"] == "profile" and body["field"] == "profle"
    body = _error(client.post("/api/why", json={"profile": {}}), 422)
    assert body["field"] == "id"
    body = _error(client.post("/api/evaluate", json=[1, 2]), 422)
    assert body["error"].startswith("the body must be a JSON object")
    body = _error(client.post("/api/evaluate", json={"profile": "industry: ict"}), 422)
    assert body["field"] == "profile"


def test_unknown_id_is_404_with_a_suggestion(client):
    answer = client.post("/api/why", json={"profile": {}, "id": "setlement_subsidy"})
    assert answer.status_code == 404
    assert answer.json() == {"error": "'setlement_subsidy' is not a conclusion or benefit",
                             "suggestion": "settlement_subsidy"}
    assert client.post("/api/why-not", json={"profile": {}, "id": "nothing_like_it"}).status_code == 404


def test_unknown_api_path_and_method_answer_json(client):
    answer = client.get("/api/nothing")
    assert answer.status_code == 404 and "error" in answer.json()
    answer = client.get("/api/evaluate")
    assert answer.status_code == 405 and "error" in answer.json()


def test_every_response_carries_the_content_security_policy(client):
    for path in ("/healthz", "/evaluate", "/static/app.js"):
        policy = client.get(path).headers["content-security-policy"]
        assert "default-src 'self'" in policy and "script-src 'self'" in policy
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy


def test_the_server_keeps_serving_after_bad_requests(client):
    assert client.get("/healthz").status_code == 200
    assert client.post("/api/evaluate", json={"profile": {"industry": "ict"}}).status_code == 200


# --------------------------------------------------------------------------- a real server process

def _distinct_profiles(count: int) -> list[dict]:
    industries = ["ict", "finance", "culture", "business_services", "other"]
    out = []
    for i in range(count):
        out.append({
            "name": f"企业{i:03d}", "application_date": f"202{1 + i % 3}-0{1 + i % 9}-1{i % 10}",
            "registered_in_xicheng": i % 4 != 0, "fits_core_area_function": True, "lawful_operation": i % 7 != 0,
            "digital_economy_business": True, "digital_economy_recognized": i % 5 != 1,
            "industry": industries[i % 5], "leading_demonstration_role": i % 2 == 0,
            "key_enterprise_recognized": i % 3 != 2, "establishment": ["new", "relocated", "existing"][i % 3],
            "paid_in_capital": 90_000_000 + i * 1_000_000, "office_tenure": ["purchased", "rented", "none"][i % 3],
            "cultivated_new_key_enterprise": i % 2 == 1, "cultivation_investment": f"{100 + i}万元",
            "listing": ["none", "star_market", "neeq", "main_board"][i % 4],
            "other_district_support": [{"benefit": "listing_grant", "policy": f"政策{i}", "amount": (i % 9) * 1_000_000}],
        })
    return out


def test_two_hundred_concurrent_requests_each_get_their_own_result(kb):
    profiles = _distinct_profiles(200)
    expected = [engine.evaluate(p, kb=kb) for p in profiles]
    assert len({json.dumps(e, sort_keys=True, ensure_ascii=False) for e in expected}) > 50

    async def all_at_once(base):
        limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
        async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as http:
            return await asyncio.gather(*(http.post("/api/evaluate", json={"profile": p}) for p in profiles))

    with running_server(workers=2, kb=str(REPO / "kb")) as (base, _):
        answers = asyncio.run(all_at_once(base))
    for profile, answer, want in zip(profiles, answers, expected):
        assert answer.status_code == 200, answer.text
        assert answer.json() == want, profile["name"]


def test_a_dying_engine_fails_its_request_with_500_and_is_replaced():
    with running_server(workers=1, faults=True) as (base, process):
        with httpx.Client(base_url=base, timeout=60) as http:
            assert http.post("/api/evaluate", json={"profile": {"industry": "ict"}}).status_code == 200
            answer = http.post("/api/evaluate", json={"profile": {"name": "__policykb_crash_worker__"}})
            assert answer.status_code == 500
            assert set(answer.json()) == {"error"} and "restarted" in answer.json()["error"]
            after = http.post("/api/evaluate", json={"profile": {"industry": "ict", "name": "next"}})
            assert after.status_code == 200 and after.json()["enterprise"] == "next"
            # Limits hold through the real server too, and it keeps serving.
            big = b'{"profile": {"name": "' + b"x" * (10 * 1024 * 1024) + b'"}}'
            assert http.post("/api/evaluate", content=big, headers={"content-type": "application/json"}).status_code == 413
            assert http.get("/healthz").json()["status"] == "ok"
        process.send_signal(signal.SIGTERM)
        assert process.wait(20) == 0
        assert "listening on http://127.0.0.1:" in process.stderr.read()


def test_serve_refuses_a_bad_port_and_a_busy_one(tmp_path):
    bad = subprocess.run([sys.executable, "-m", "engine.cli", "serve", "--port", "70000"], cwd=REPO,
                         capture_output=True, text=True, encoding="utf-8", timeout=60)
    assert bad.returncode == 2 and "--port" in bad.stderr and "Traceback" not in bad.stderr
    with running_server(workers=1) as (base, _):
        port = base.rsplit(":", 1)[1]
        busy = subprocess.run([sys.executable, "-m", "engine.cli", "serve", "--port", port], cwd=REPO,
                              capture_output=True, text=True, encoding="utf-8", timeout=60)
        assert busy.returncode == 2 and "cannot listen" in busy.stderr


def test_the_sum_of_ceilings_counts_benefits_that_are_not_stacked_once():
    import yaml
    import engine
    from engine.web.operations import case
    from conftest import KB_DIR
    profile = yaml.safe_load((KB_DIR / "examples" / "new_enterprise_2022.yaml").read_text(encoding="utf-8"))
    # The settlement subsidy (at most 2000万) and the start-up cost subsidy (at most 5000万) pay
    # for the same thing: at most 5000万 together, not 7000万.
    assert case(engine.load(KB_DIR), profile, "zh")["ceiling"] == "5,000万元"


# --------------------------------------------------------------------------- importing a profile into the form

def test_an_imported_profile_written_with_labels_fills_the_form(client):
    text = ("企业名称: 甲公司\nindustry: 信息传输、软件和信息技术服务业\nestablishment: 新设立\n"
            "office_tenure: 购买办公用房\n实收资本: 1.2亿元\n")
    page = client.post("/ui/import", data={"text": text}).text
    assert 'role="alert"' not in page
    for value in ("ict", "new", "purchased"):
        assert f'<option value="{value}" selected>' in page, value
    assert "1.2亿元" in page and "甲公司" in page


@pytest.mark.parametrize("text, lang, words", [
    ("paid_in_captial: 1.2亿元\n", "en", ["Cannot import: ", "did you mean &#39;paid_in_capital&#39;"]),
    ("industry: 金融科技\n", "en", ["did you mean &#39;金融&#39;"]),
    ("paid_in_capital: 一点五亿\n", "en", ["Chinese numerals"]),
    ("paid_in_captial: 1.2亿元\n", "zh", ["无法导入：", "是否想写 &#39;paid_in_capital&#39;"]),
    ("paid_in_capital: 一点五亿\n", "zh", ["无法导入：", "实收资本", "中文数字"]),
])
def test_an_imported_profile_with_a_mistake_says_so_instead_of_dropping_it(client, text, lang, words):
    """In the page's language (the engine's message in Chinese on a Chinese page)."""
    page = client.post(f"/ui/import?lang={lang}", data={"text": text}).text
    assert 'role="alert"' in page and all(w in page for w in words), words


def test_an_uploaded_template_with_one_enterprise_fills_the_form_and_with_several_says_to_use_batch(client, kb, tmp_path):
    import openpyxl
    from engine.rendering.template import write_template
    write_template(kb, tmp_path / "t.xlsx")
    book = openpyxl.load_workbook(tmp_path / "t.xlsx")
    sheet = book.worksheets[0]
    ids = [c.value for c in sheet[3]]
    row = {"id": "E1", "name": "乙公司", "industry": "金融", "paid_in_capital": "8000万", "registered_in_xicheng": "是"}
    sheet.append([row.get(i) for i in ids])
    book.save(tmp_path / "one.xlsx")
    page = client.post("/ui/import", files={"file": ("one.xlsx", (tmp_path / "one.xlsx").read_bytes())}).text
    assert 'role="alert"' not in page and '<option value="finance" selected>' in page and "乙公司" in page
    sheet.append([row.get(i) for i in ids])
    book.save(tmp_path / "two.xlsx")
    page = client.post("/ui/import?lang=en", files={"file": ("two.xlsx", (tmp_path / "two.xlsx").read_bytes())}).text
    assert 'role="alert"' in page and "Batch page" in page


def test_an_interview_whose_questions_were_all_skipped_offers_them_again(client, kb):
    import html
    import re
    profile = plain(yaml.safe_load((kb.examples_dir / "new_ict_key_enterprise.yaml").read_text(encoding="utf-8")))
    state = {"profile": json.dumps(profile, ensure_ascii=False), "skipped": "[]", "history": "[]", "lang": "en"}
    page = client.post("/ui/interview?lang=en", data=state).text
    for _ in range(60):
        asked = re.search(r'name="fact" value="([a-z_0-9]+)"', page)
        if asked is None:
            break
        hidden = {name: html.unescape(value) for name, value in re.findall(r'name="(profile|skipped|history)" value="([^"]*)"', page)}
        page = client.post("/ui/interview?lang=en", data={**hidden, "fact": asked.group(1), "action": "skip"}).text
    assert 'id="interview-done"' in page and "but the" in page and 'id="revisit"' in page
    hidden = {name: html.unescape(value) for name, value in re.findall(r'name="(profile|skipped|history)" value="([^"]*)"', page)}
    again = client.post("/ui/interview?lang=en", data={**hidden, "action": "revisit"}).text
    assert re.search(r'name="fact" value="[a-z_0-9]+"', again)


def test_the_batch_page_links_the_template_in_its_language(client, kb, tmp_path):
    import openpyxl
    page = client.get("/batch?lang=zh").text
    assert 'href="/template.xlsx?lang=zh"' in page and "或选择文件" not in page
    answer = client.get("/template.xlsx?lang=en")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("application/vnd.openxmlformats")
    (tmp_path / "t.xlsx").write_bytes(answer.content)
    sheet = openpyxl.load_workbook(tmp_path / "t.xlsx").worksheets[0]
    assert [c.value for c in sheet[3]][:2] == ["id", "name"] and sheet["B2"].value == "Enterprise name"
    assert client.get("/template.xlsx?lang=en").content == answer.content   # the same bytes each time


def test_an_interview_answer_that_cannot_be_read_is_asked_again_with_the_message_at_its_field(client):
    import html
    import re
    state = {"profile": json.dumps({"name": "甲"}, ensure_ascii=False), "skipped": "[]", "history": "[]"}
    page = client.post("/ui/interview?lang=zh", data={**state, "fact": "application_date", "action": "answer",
                                                      "f.application_date": "2023/13/45"}).text
    assert re.search(r'name="fact" value="application_date"', page)
    message = re.search(r'<p class="field-message error" id="msg-application_date"[^>]*>([^<]*)</p>', page)
    assert message and "2023/13/45" in html.unescape(message.group(1)) and "请重新回答或跳过" in message.group(1)
    hidden = dict(re.findall(r'name="(history)" value="([^"]*)"', page))
    assert json.loads(html.unescape(hidden["history"])) == []          # not counted as answered
    # Read as the engine reads it, the answer moves the interview on.
    page = client.post("/ui/interview?lang=zh", data={**state, "fact": "application_date", "action": "answer",
                                                      "f.application_date": "2023年5月8日"}).text
    assert not re.search(r'name="fact" value="application_date"', page) and "field-message error" not in page


def test_the_batch_as_of_date_is_typed_text_read_by_the_engine_and_refused_in_the_pages_language(client):
    files = {"file": ("e.csv", "id,name,industry\nE1,甲,ict\n".encode("utf-8"), "text/csv")}
    page = client.post("/ui/batch?lang=zh", files=files, data={"as_of": "2023/13/45"}).text
    assert "“2023/13/45”不是真实存在的日期（月份应为1–12）" in page
    page = client.post("/ui/batch?lang=en", files=files, data={"as_of": "2023/13/45"}).text
    assert "is not a real date" in page
    form = client.get("/batch?lang=zh").text
    assert 'name="as_of" placeholder="2021-03-01"' in form and 'type="date" name="as_of"' not in form
