"""Field mode's JSON API, consent, withdrawal, isolation, review and file upload."""

from __future__ import annotations

import html
import io
import json
import re
import uuid
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from instruments import load_builtin
from surveys.models import Response
from surveys.models.field import ConsentRecord, FieldInterview
from surveys.services import field as field_service

pytestmark = pytest.mark.usefixtures("fast_passwords")

ANSWERS = {
    "consent": "yes",
    "respondent_under16": "no",
    "area_satisfaction": "fairly_satisfied",
    "safe_after_dark": "a_bit_unsafe",
    "good_for_children": "The park on the estate and the youth club.",
}


@pytest.fixture
def fieldwork(session: Session, make_site, make_wave, make_user) -> dict[str, Any]:
    """An area, an open wave with peer_interview, and two researchers assigned to it."""
    area = make_site("A1", kind="area", name="Millfields")
    other_area = make_site("A2", kind="area", name="Downs")
    wave = make_wave()
    admin = make_user("admin")
    first = make_user("researcher")
    second = make_user("researcher")
    for user, site in ((first, area), (second, area), (second, other_area)):
        field_service.assign_researcher(
            session,
            actor_id=admin.id,
            user=user,
            wave=wave,
            site=site,
            instrument_id="peer_interview",
        )
    session.commit()
    return {
        "area": area,
        "other_area": other_area,
        "wave": wave,
        "admin": admin,
        "first": first,
        "second": second,
    }


def payload(fw: dict[str, Any], **changes: Any) -> dict[str, Any]:
    body = {
        "id": str(uuid.uuid4()),
        "wave_id": fw["wave"].id,
        "site_id": fw["area"].id,
        "instrument_id": "peer_interview",
        "answers": dict(ANSWERS),
        "device_id": "d3b07384-d113-4ec6-a7a4-5a1b2c3d4e5f",
        "started_at": "2027-03-01T10:00:00Z",
        "saved_at": "2027-03-01T10:20:00Z",
        "receipt_code": "ABCD-EFGH-JKMN",
    }
    body.update(changes)
    return body


def count(session: Session, model: Any = Response) -> int:
    session.rollback()  # end the read snapshot so the app's commits are visible
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_interview_is_stored_once_and_retry_answers_200(client, login, session, fieldwork):
    login(fieldwork["first"])
    body = payload(fieldwork)
    first = client.post("/field/api/interviews", json=body)
    assert first.status_code == 201, first.json
    assert first.json["outcome"] == "created"
    again = client.post("/field/api/interviews", json=body)
    assert again.status_code == 200
    assert again.json["outcome"] == "duplicate"
    assert count(session) == 1
    row = session.get(Response, body["id"])
    assert row.channel == "field" and row.status == "submitted"
    assert row.researcher_id == fieldwork["first"].id
    assert row.answers["area"] == "Millfields"  # filled in from the assignment
    assert session.get(FieldInterview, body["id"]).device_id == body["device_id"]


def test_different_payload_under_same_id_is_409_and_changes_nothing(
    client, login, session, fieldwork
):
    login(fieldwork["first"])
    body = payload(fieldwork)
    assert client.post("/field/api/interviews", json=body).status_code == 201
    changed = dict(body, answers={**ANSWERS, "safe_after_dark": "very_safe"})
    conflict = client.post("/field/api/interviews", json=changed)
    assert conflict.status_code == 409
    session.rollback()
    assert session.get(Response, body["id"]).answers["safe_after_dark"] == "a_bit_unsafe"
    assert count(session) == 1


def test_signed_out_api_answers_401_json_not_a_redirect(client, fieldwork):
    response = client.post("/field/api/interviews", json=payload(fieldwork))
    assert response.status_code == 401
    assert response.json["status"] == 401
    assert client.get("/field/api/session").status_code == 401


def test_invalid_answers_answer_422_with_the_problem(client, login, session, fieldwork):
    login(fieldwork["first"])
    body = payload(fieldwork, answers={**ANSWERS, "area_satisfaction": "ecstatic"})
    response = client.post("/field/api/interviews", json=body)
    assert response.status_code == 422
    assert "area_satisfaction" in response.json["error"]
    assert count(session) == 0


def test_unassigned_area_is_refused(client, login, session, fieldwork):
    login(fieldwork["first"])
    body = payload(fieldwork, site_id=fieldwork["other_area"].id)
    assert client.post("/field/api/interviews", json=body).status_code == 403
    assert count(session) == 0


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        ({"consent": "no"}, "consent_only"),
        ({"consent": "yes", "respondent_under16": "yes", "parent_consent": "no"}, "consent_only"),
        ({**ANSWERS, "respondent_under16": "yes", "parent_consent": "yes"}, "created"),
    ],
)
def test_consent_rules(client, login, session, fieldwork, answers, expected):
    login(fieldwork["first"])
    body = payload(fieldwork, answers=answers)
    response = client.post("/field/api/interviews", json=body)
    assert response.status_code == 201
    assert response.json["outcome"] == expected
    record = session.get(ConsentRecord, body["id"])
    assert record is not None
    if expected == "consent_only":
        assert count(session) == 0  # no interview kept beyond the consent record
        assert record.response_id is None
    else:
        assert record.response_id == body["id"]
        assert record.respondent_under16 is True and record.parent_consent is True
    assert client.post("/field/api/interviews", json=body).status_code == 200


def test_refused_consent_drops_any_answers_given(client, login, session, fieldwork):
    login(fieldwork["first"])
    body = payload(fieldwork, answers={**ANSWERS, "consent": "no", "respondent_under16": ""})
    # answers to the interview itself are not relevant without consent: nothing is stored
    response = client.post("/field/api/interviews", json=body)
    assert response.status_code in (201, 422)
    assert count(session) == 0


def test_withdrawal_with_receipt_code_deletes_the_response(client, login, session, fieldwork):
    login(fieldwork["first"])
    body = payload(fieldwork)
    assert client.post("/field/api/interviews", json=body).status_code == 201
    row = session.get(Response, body["id"])
    assert row.receipt_hash and "ABCD" not in row.receipt_hash  # only a hash is stored
    client.post("/logout")
    wrong = client.post("/field/withdraw", data={"code": "ZZZZ-ZZZZ-ZZZZ"})
    assert b"could not find" in wrong.data
    assert count(session) == 1
    done = client.post("/field/withdraw", data={"code": "abcd efgh jkmn"}, follow_redirects=True)
    assert b"has been deleted" in done.data
    assert count(session) == 0
    session.rollback()
    record = session.get(ConsentRecord, body["id"])
    assert record.withdrawn_at is not None and record.response_id is None


def test_researcher_sees_only_their_own_interviews(client, login, session, fieldwork):
    login(fieldwork["second"])
    theirs = payload(fieldwork)
    assert client.post("/field/api/interviews", json=theirs).status_code == 201
    client.post("/logout")
    login(fieldwork["first"])
    mine = payload(fieldwork)
    assert client.post("/field/api/interviews", json=mine).status_code == 201
    listed = client.get("/field/api/interviews").json["interviews"]
    assert [i["id"] for i in listed] == [mine["id"]]
    assert client.get(f"/field/api/interviews/{theirs['id']}").status_code == 404
    assert client.get(f"/field/interviews/{theirs['id']}").status_code == 404
    assert client.get(f"/field/interviews/{mine['id']}").status_code == 200
    home = client.get("/field/")
    assert mine["id"].encode() in home.data and theirs["id"].encode() not in home.data
    # re-using another researcher's id cannot overwrite or reveal it
    stolen = client.post("/field/api/interviews", json=dict(theirs))
    assert stolen.status_code == 409
    # review pages and the upload are for the core team only
    for url in (
        "/field/review",
        f"/field/review/{theirs['id']}",
        "/field/upload",
        "/field/assignments",
        "/coding/",
    ):
        assert client.get(url).status_code in (403, 404), url


def test_review_feeds_analysis(client, login, session, fieldwork):
    login(fieldwork["first"])
    bodies = [payload(fieldwork) for _ in range(3)]
    for body in bodies:
        assert client.post("/field/api/interviews", json=body).status_code == 201
    client.post("/logout")
    login(fieldwork["admin"])
    listing = client.get("/field/review")
    assert listing.status_code == 200 and listing.data.count(b"/field/review/") >= 3
    assert (
        client.post(f"/field/review/{bodies[0]['id']}", data={"action": "approve"}).status_code
        == 302
    )
    missing_reason = client.post(f"/field/review/{bodies[1]['id']}", data={"action": "reject"})
    assert b"give a reason" in missing_reason.data.lower()
    rejected = client.post(
        f"/field/review/{bodies[1]['id']}", data={"action": "reject", "note": "Test interview"}
    )
    assert rejected.status_code == 302
    client.post(f"/field/review/{bodies[2]['id']}", data={"action": "flag", "note": "check"})
    community = fieldwork["wave"].community
    session.rollback()
    counted = set(
        session.scalars(select(Response.id).where(field_service.counts_in_analysis(community)))
    )
    assert counted == {bodies[0]["id"]}
    assert field_service.analysis_statuses(community) == ("approved",)
    settings = field_service.research_settings(session, community.id)
    settings.count_submitted = True
    session.add(settings)
    session.commit()
    assert field_service.analysis_statuses(community) == ("approved", "submitted")
    counted = set(
        session.scalars(select(Response.id).where(field_service.counts_in_analysis(community)))
    )
    assert counted == {bodies[0]["id"], bodies[2]["id"]}
    assert session.get(FieldInterview, bodies[2]["id"]).flagged is True


def test_upload_of_exported_file_is_idempotent(client, login, session, fieldwork):
    login(fieldwork["first"])
    sent = payload(fieldwork)
    assert client.post("/field/api/interviews", json=sent).status_code == 201
    client.post("/logout")
    unsent = payload(fieldwork)
    conflicting = dict(sent, answers={**ANSWERS, "area_satisfaction": "very_satisfied"})
    document = {
        "format": "placevoice-field-export",
        "version": 1,
        "interviews": [
            {**unsent, "researcher_id": fieldwork["first"].id},
            {**sent, "researcher_id": fieldwork["first"].id},
            {**conflicting, "researcher_id": fieldwork["first"].id},
        ],
    }
    data = json.dumps(document).encode()
    login(fieldwork["admin"])
    for attempt in range(2):
        response = client.post(
            "/field/upload",
            data={"file": (io.BytesIO(data), "unsent.json")},
            content_type="multipart/form-data",
        )
        assert response.status_code == 200
        text = response.data.decode()
        stored = 1 if attempt == 0 else 0
        assert f"{stored} stored, {2 - stored} already received" in text
        assert "different answers" in text  # the conflict is reported, not stored
    assert count(session) == 2
    bad = client.post(
        "/field/upload",
        data={"file": (io.BytesIO(b"not json"), "x.json")},
        content_type="multipart/form-data",
    )
    assert b"not an export of unsent interviews" in bad.data


@pytest.fixture
def csrf_app_config(app_config):
    app_config["WTF_CSRF_ENABLED"] = True
    return app_config


def test_json_endpoint_needs_the_header_token(csrf_app_config, client, session, fieldwork):
    page = client.get("/login").data.decode()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    client.post(
        "/login",
        data={
            "email": fieldwork["first"].email,
            "password": "correct horse battery staple",
            "csrf_token": token,
        },
    )
    body = payload(fieldwork)
    refused = client.post("/field/api/interviews", json=body)
    assert refused.status_code == 400
    fresh = client.get("/field/api/session").json["csrf_token"]
    accepted = client.post("/field/api/interviews", json=body, headers={"X-CSRFToken": fresh})
    assert accepted.status_code == 201
    app_page = client.get("/field/app").data.decode()
    meta = re.search(r'<meta name="csrf-token" content="([^"]+)"', app_page).group(1)
    again = client.post("/field/api/interviews", json=body, headers={"X-CSRFToken": meta})
    assert again.status_code == 200
    assert count(session) == 1


def test_service_worker_is_served_for_the_field_scope(client, login, fieldwork):
    response = client.get("/field/sw.js")
    assert response.status_code == 200
    assert response.mimetype == "application/javascript"
    assert response.headers["Service-Worker-Allowed"] == "/field/"
    text = response.data.decode()
    assert "__VERSION__" not in text and '"/field/app"' in text
    manifest = client.get("/field/manifest.webmanifest")
    assert manifest.json["scope"] == "/field/"
    login(fieldwork["first"])
    shell = client.get("/field/app").data.decode()
    assert 'data-instrument="peer_interview"' in shell
    assert "Millfields" in shell
    assert " style=" not in shell and "<script>" not in shell  # CSP: no inline code


def test_withdrawal_guesses_are_rate_limited(client, session, fieldwork):
    for _ in range(10):
        assert client.post("/field/withdraw", data={"code": "WRONG-CODE-0000"}).status_code == 200
    blocked = client.post("/field/withdraw", data={"code": "WRONG-CODE-0000"})
    assert blocked.status_code == 429
    assert b"Too many attempts" in blocked.data


def test_researcher_bound_to_an_area_is_assigned_to_interview_forms(
    client, login, session, fieldwork, make_user
):
    bound = make_user("researcher", sites=(fieldwork["other_area"],))
    found = field_service.assignments_for(session, bound.id)
    assert [(a.site_id, a.instrument_id, a.id) for a in found] == [
        (fieldwork["other_area"].id, "peer_interview", 0)  # only the form that records consent
    ]
    login(bound)
    ok = client.post(
        "/field/api/interviews", json=payload(fieldwork, site_id=fieldwork["other_area"].id)
    )
    assert ok.status_code == 201
    refused = client.post("/field/api/interviews", json=payload(fieldwork))
    assert refused.status_code == 403


def test_too_large_interview_gets_json_413(client, login, app, fieldwork):
    login(fieldwork["first"])
    body = b"x" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    reply = client.post("/field/api/interviews", data=body, content_type="application/json")
    assert reply.status_code == 413
    assert reply.get_json()["status"] == 413


def test_the_app_offers_every_language_of_the_questionnaire(client, login, fieldwork):
    login(fieldwork["first"])
    shell = client.get("/field/app").get_data(as_text=True)
    forms = re.findall(r'<form class="field-form"[^>]*>', shell)
    assert len(forms) == 2  # peer_interview in English and Polish
    assert 'data-language="en" lang="en" dir="ltr"' in forms[0]
    assert 'data-language="pl" lang="pl" dir="ltr"' in forms[1]
    consent = load_builtin("peer_interview").item("consent")
    polish_form = shell[shell.index(forms[1]) :]
    assert html.escape(consent.label("pl"), quote=False) in polish_form
    assert consent.label("pl") != consent.label("en")
    ids = re.findall(r'\bid="([^"]+)"', shell)
    assert len(ids) == len(set(ids))  # each language's fields have their own ids
    config = json.loads(re.search(r'id="field-config">(.*?)</script>', shell, re.S).group(1))
    languages = config["assignments"][0]["languages"]
    assert [lang["code"] for lang in languages] == ["en", "pl"]


@pytest.mark.parametrize(("sent", "stored"), [("pl", "pl"), ("xx", "en"), (None, "en")])
def test_the_interview_language_is_recorded(client, login, session, fieldwork, sent, stored):
    login(fieldwork["first"])
    body = payload(fieldwork, language=sent)
    assert client.post("/field/api/interviews", json=body).status_code == 201
    session.rollback()
    assert session.get(Response, body["id"]).language == stored
