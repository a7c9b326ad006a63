"""Every message of the capture page exists in both languages, and every code the page's
API can answer (from the OpenAPI schema), every retake reason and every action has one."""

from __future__ import annotations

import json
import re

from kyc.capture import LIVENESS_RETAKE_REASONS, RETAKE_REASONS
from kyc.config import PROJECT_ROOT
from kyc.liveness import ACTIONS

STATIC = PROJECT_ROOT / "api" / "capture_static"
MESSAGES = json.loads((STATIC / "messages.json").read_text())


def test_both_languages_have_the_same_messages_and_none_is_empty():
    assert set(MESSAGES) == {"en", "zh-CN"}
    assert set(MESSAGES["en"]) == set(MESSAGES["zh-CN"])
    for lang, table in MESSAGES.items():
        assert all(isinstance(v, str) and v.strip() for v in table.values()), lang
    # the Chinese texts are Chinese (not English copied over), except the language switch
    latin = [k for k, v in MESSAGES["zh-CN"].items() if not re.search(r"[\u4e00-\u9fff]", v) and k != "lang_switch"]
    assert latin == []


def test_every_code_the_page_api_answers_has_a_message(client):
    schema = client.get("/openapi.json").json()
    codes = set()
    for path, ops in schema["paths"].items():
        if not path.startswith("/v1/capture/"):
            continue
        for op in ops.values():
            for resp in op.get("responses", {}).values():
                codes.update(re.findall(r"`([a-z_]+)`", resp.get("description", "")))
    assert "capture_session_expired" in codes and "document_unreadable" in codes
    missing = sorted(c for c in codes if c not in MESSAGES["en"])
    assert missing == []


def test_every_reason_action_and_text_key_of_the_page_has_a_message():
    keys = set(MESSAGES["en"])
    assert {f"reason_{r}" for r in (*RETAKE_REASONS, *LIVENESS_RETAKE_REASONS)} <= keys
    assert {f"action_{a}" for a in ACTIONS} <= keys
    assert {f"result_{r}_{part}" for r in ("done", "review", "retry") for part in ("title", "text")} <= keys
    html = (STATIC / "index.html").read_text()
    js = (STATIC / "capture.js").read_text()
    used = set(re.findall(r'data-i18n="([a-z_]+)"', html)) | set(re.findall(r'say\([^,]+, "([a-z_]+)"\)', js))
    assert used and used <= keys, sorted(used - keys)
