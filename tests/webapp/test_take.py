"""The pupil and resident flow through the test client: codes, pages, resume, submit."""

from __future__ import annotations

import datetime as dt
import re
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from instruments import load_builtin
from surveys.models import AccessCode, Response, User, UserSite
from surveys.services import create_wave, get_or_create_community
from surveys.services.drafts import (
    _canonical_word,
    check_teacher_pin,
    match_postcode,
    page_layout,
    set_teacher_pin,
)

FAST = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
TOKEN = re.compile(r'name="draft_token" value="([0-9a-f]+)"')


@pytest.fixture
def school(make_site: Any, make_class: Any, make_wave: Any, make_code: Any) -> dict[str, Any]:
    """An open wave, a school with class 6A and its class code."""
    wave = make_wave()
    site = make_site("S01", name="Hill Primary", population=200)
    cls = make_class(site, "6A", 6, 28)
    code = make_code(wave, site, cls)
    return {"wave": wave, "site": site, "cls": cls, "code": code}


def start(client: Any, code: str) -> str:
    """Enter a code; returns the response id."""
    reply = client.post("/start", data={"code": code})
    assert reply.status_code == 302, reply.data[:400]
    match = re.search(r"/s/([0-9a-f-]{36})/intro", reply.headers["Location"])
    assert match
    return match.group(1)


def token_of(client: Any, rid: str) -> str:
    page = client.get(f"/s/{rid}/intro")
    match = TOKEN.search(page.get_data(as_text=True))
    assert match
    return match.group(1)


def post_page(client: Any, rid: str, key: str, data: dict[str, Any], token: str) -> Any:
    return client.post(f"/s/{rid}/q/{key}", data={**data, "draft_token": token})


def stored(session: Session, rid: str) -> Response:
    session.rollback()  # end the test's read transaction to see the app's writes
    response = session.get(Response, rid)
    assert response is not None
    return response


def test_code_is_case_and_space_insensitive_and_starts_a_bound_draft(
    client: Any, session: Session, school: dict[str, Any]
) -> None:
    code = school["code"].code
    typed = f" {code[:4].lower()}-{code[4:].lower()} "
    rid = start(client, typed)
    draft = stored(session, rid)
    assert draft.status == "draft"
    assert draft.class_id == school["cls"].id
    assert draft.channel == "class"
    assert re.fullmatch(r"[a-z]+-[a-z]+-\d\d", draft.resume_word or "")
    intro = client.get(f"/s/{rid}/intro").get_data(as_text=True)
    assert "not a test" in intro
    assert draft.resume_word in intro


def test_pupil_flow_with_skip_relevance_back_and_change_stores_once(
    client: Any, session: Session, school: dict[str, Any]
) -> None:
    rid = start(client, school["code"].code)
    token = token_of(client, rid)
    assert (
        client.post(f"/s/{rid}/language", data={"lang": "en", "draft_token": token})
        .headers["Location"]
        .endswith(f"/s/{rid}/q/about_you")
    )
    reply = post_page(client, rid, "about_you", {"year_group": "year6"}, token)  # gender skipped
    assert reply.headers["Location"].endswith("/q/happiness")
    # Back from the second page goes to the first, which shows the saved answer
    page = client.get(f"/s/{rid}/q/happiness").get_data(as_text=True)
    assert f'href="/s/{rid}/q/about_you"' in page
    first = client.get(f"/s/{rid}/q/about_you").get_data(as_text=True)
    assert re.search(r'value="year6" checked', first)
    post_page(client, rid, "happiness", {"life_satisfaction": "8"}, token)
    reply = post_page(
        client, rid, "bullying", {"bullied_freq": "never", "bullied_online": "never"}, token
    )
    # told_someone is hidden by relevance: its page shows only the question after it
    assert reply.headers["Location"].endswith("/q/told_someone")
    follow_up = client.get(f"/s/{rid}/q/told_someone").get_data(as_text=True)
    assert "Did you tell someone" not in follow_up
    assert "adults help to stop it" in follow_up
    check = client.get(f"/s/{rid}/check").get_data(as_text=True)
    assert "Did you tell someone" not in check
    assert "Not answered" in check
    # Change an answer from the check page and come back to it
    change = re.search(r'href="(/s/[^"]+/q/about_you\?return=check#f-year_group)"', check)
    assert change
    form = client.get(change.group(1)).get_data(as_text=True)
    assert 'name="return" value="check"' in form
    reply = post_page(
        client,
        rid,
        "about_you",
        {"year_group": "year7", "gender": "girl", "return": "check"},
        token,
    )
    assert reply.headers["Location"].endswith(f"/s/{rid}/check")
    reply = client.post(f"/s/{rid}/submit", data={"draft_token": token})
    assert "/done" in reply.headers["Location"]
    response = stored(session, rid)
    assert response.status == "submitted"
    assert response.answers == {
        "year_group": "year7",
        "gender": "girl",
        "life_satisfaction": "8",
        "bullied_freq": "never",
        "bullied_online": "never",
    }
    assert response.instrument_version.version == "2027.2"
    assert response.class_id == school["cls"].id
    assert response.site_id == school["site"].id
    assert response.language == "en"
    assert response.resume_word is None
    count = session.scalar(select(func.count(Response.id)).where(Response.status == "submitted"))
    assert count == 1


def test_relevant_follow_up_appears_on_its_own_page(
    client: Any, session: Session, school: dict[str, Any]
) -> None:
    rid = start(client, school["code"].code)
    token = token_of(client, rid)
    reply = post_page(client, rid, "bullying", {"bullied_freq": "weekly"}, token)
    assert reply.headers["Location"].endswith("/q/told_someone")
    page = client.get(reply.headers["Location"]).get_data(as_text=True)
    assert "Did you tell someone you trust" in page


@pytest.mark.parametrize(
    ("status", "message"),
    [("closed", "survey has closed"), ("draft", "has not opened yet")],
)
def test_code_for_a_wave_that_is_not_open_is_refused(
    client: Any,
    session: Session,
    make_site: Any,
    make_class: Any,
    make_wave: Any,
    make_code: Any,
    status: str,
    message: str,
) -> None:
    wave = make_wave(status=status)
    site = make_site("S09")
    code = make_code(wave, site, make_class(site))
    reply = client.post("/start", data={"code": code.code})
    assert reply.status_code == 200
    assert message in reply.get_data(as_text=True)
    assert session.scalar(select(func.count(Response.id))) == 0


def test_wrong_revoked_and_used_codes_have_clear_messages(
    client: Any, session: Session, school: dict[str, Any], make_code: Any
) -> None:
    reply = client.post("/start", data={"code": "ZZZZ-ZZZZ"})
    page = reply.get_data(as_text=True)
    assert "We did not recognise that code" in page
    assert 'href="#f-code"' in page  # the error summary links to the field
    code = school["code"]
    session.execute(update(AccessCode).where(AccessCode.id == code.id).values(revoked=True))
    session.commit()
    assert "expired or been withdrawn" in client.post("/start", data={"code": code.code}).get_data(
        as_text=True
    )
    token = make_code(school["wave"], school["site"], kind="token", instrument="resident_baseline")
    start(client, token.code)
    again = client.post("/start", data={"code": token.code}).get_data(as_text=True)
    assert "already been used" in again


def test_wrong_codes_are_rate_limited_per_client(client: Any, school: dict[str, Any]) -> None:
    for _ in range(10):
        assert client.post("/start", data={"code": "WRONG123"}).status_code == 200
    limited = client.post("/start", data={"code": school["code"].code})
    assert limited.status_code == 429
    assert "Too many wrong codes" in limited.get_data(as_text=True)
    # another address is not affected
    other = client.post(
        "/start", data={"code": school["code"].code}, environ_base={"REMOTE_ADDR": "10.0.0.9"}
    )
    assert other.status_code == 302


def test_rate_events_store_no_address(client: Any, session: Session) -> None:
    client.post("/start", data={"code": "WRONG123"}, environ_base={"REMOTE_ADDR": "10.1.2.3"})
    from surveys.models.rate_limits import RateEvent

    events = list(session.scalars(select(RateEvent)))
    assert len(events) == 1
    assert "10.1.2.3" not in events[0].key_hash
    assert len(events[0].key_hash) == 64


def test_constraint_error_is_in_the_summary_and_nothing_is_lost(
    client: Any, session: Session, school: dict[str, Any]
) -> None:
    rid = start(client, school["code"].code)
    token = token_of(client, rid)
    post_page(client, rid, "about_you", {"year_group": "year6"}, token)
    reply = post_page(client, rid, "out_of_school", {"activities": ["sport", "none"]}, token)
    assert reply.status_code == 200
    page = reply.get_data(as_text=True)
    assert 'class="error-summary"' in page
    assert 'href="#f-activities"' in page
    assert "cannot be chosen together" in page
    assert re.search(r'value="sport" checked', page)
    assert re.search(r'value="none" checked', page)
    assert stored(session, rid).answers == {"year_group": "year6"}
    # fixing it saves the page
    post_page(client, rid, "out_of_school", {"activities": ["sport"]}, token)
    assert stored(session, rid).answers["activities"] == ["sport"]


def test_a_response_id_alone_does_not_open_a_draft(
    app: Any, client: Any, session: Session, school: dict[str, Any]
) -> None:
    rid = start(client, school["code"].code)
    token = token_of(client, rid)
    post_page(client, rid, "about_you", {"year_group": "year6"}, token)
    stranger = app.test_client()
    for path in (f"/s/{rid}/check", f"/s/{rid}/q/about_you", f"/s/{rid}/intro"):
        reply = stranger.get(path)
        assert reply.status_code == 302
        assert "/resume" in reply.headers["Location"]
    bad = stranger.post(
        f"/s/{rid}/q/about_you", data={"year_group": "year9", "draft_token": "0" * 64}
    )
    assert "/resume" in bad.headers["Location"]
    assert stranger.post(f"/s/{rid}/submit", data={}).status_code == 302
    assert stored(session, rid).answers == {"year_group": "year6"}
    assert stored(session, rid).status == "draft"


def test_resume_after_the_session_cookie_is_gone(
    app: Any, client: Any, session: Session, school: dict[str, Any]
) -> None:
    rid = start(client, school["code"].code)
    token = token_of(client, rid)
    post_page(client, rid, "about_you", {"year_group": "year6"}, token)
    post_page(client, rid, "happiness", {"happy_family": "9"}, token)
    word = stored(session, rid).resume_word
    assert word
    other = app.test_client()  # the laptop died: a new browser, no cookie
    wrong = other.post("/resume", data={"code": school["code"].code, "word": "silly-yak-11"})
    assert "could not find an unfinished survey" in wrong.get_data(as_text=True)
    reply = other.post(
        "/resume",
        data={"code": school["code"].code.lower(), "word": word.replace("-", " ").upper()},
    )
    assert reply.headers["Location"].endswith(f"/s/{rid}")
    carry_on = other.get(f"/s/{rid}")
    assert carry_on.headers["Location"].endswith("/q/safety")
    check = other.get(f"/s/{rid}/check").get_data(as_text=True)
    assert "Year 6" in check


def test_ninety_minutes_idle_with_no_cookie_still_saves_and_submits(
    app_config: dict[str, Any], session: Session, school: dict[str, Any]
) -> None:
    from webapp import create_app

    app_config["WTF_CSRF_ENABLED"] = True
    app = create_app(app_config)
    try:
        client = app.test_client()
        start_page = client.get("/start").get_data(as_text=True)
        csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', start_page)
        assert csrf
        assert client.post("/start", data={"code": school["code"].code}).status_code == 400
        rid = start_code_with_csrf(client, school["code"].code, csrf.group(1))
        token = token_of(client, rid)
        post_page(client, rid, "about_you", {"year_group": "year6"}, token)
        # 90 minutes pass: the draft was last saved long ago and the session cookie is gone
        long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=90)
        session.execute(
            update(Response)
            .where(Response.id == rid)
            .values(updated_at=long_ago, started_at=long_ago)
        )
        session.commit()
        client.delete_cookie(app.config["SESSION_COOKIE_NAME"])
        reply = post_page(client, rid, "happiness", {"life_satisfaction": "7"}, token)
        assert reply.status_code == 302
        reply = client.post(f"/s/{rid}/submit", data={"draft_token": token})
        assert "/done" in reply.headers["Location"]
        response = stored(session, rid)
        assert response.status == "submitted"
        assert response.answers == {"year_group": "year6", "life_satisfaction": "7"}
    finally:
        app.extensions["placevoice.engine"].dispose()


def start_code_with_csrf(client: Any, code: str, csrf: str) -> str:
    reply = client.post("/start", data={"code": code, "csrf_token": csrf})
    assert reply.status_code == 302, reply.data[:300]
    return reply.headers["Location"].split("/")[2]


def test_double_submit_stores_one_response(
    app: Any, client: Any, session: Session, school: dict[str, Any]
) -> None:
    rid = start(client, school["code"].code)
    token = token_of(client, rid)
    post_page(client, rid, "about_you", {"year_group": "year6"}, token)

    def send(_: int) -> int:
        reply = app.test_client().post(f"/s/{rid}/submit", data={"draft_token": token})
        assert "/done" in reply.headers["Location"]
        return int(reply.status_code)

    with ThreadPoolExecutor(max_workers=6) as pool:
        assert set(pool.map(send, range(6))) == {302}
    # and once more after the fact (the back button)
    assert (
        "/done" in client.post(f"/s/{rid}/submit", data={"draft_token": token}).headers["Location"]
    )
    assert session.scalar(select(func.count(Response.id))) == 1
    assert stored(session, rid).status == "submitted"
    # a submitted response cannot be changed through its pages any more
    late = post_page(client, rid, "about_you", {"year_group": "year9"}, token)
    assert "/done" in late.headers["Location"]
    assert stored(session, rid).answers == {"year_group": "year6"}


def test_language_switch_keeps_the_page_answers(
    client: Any, session: Session, school: dict[str, Any]
) -> None:
    rid = start(client, school["code"].code)
    token = token_of(client, rid)
    reply = post_page(client, rid, "safety", {"safe_school": "very_safe", "lang": "pl"}, token)
    assert reply.headers["Location"].endswith(f"/s/{rid}/q/safety")
    page = client.get(reply.headers["Location"]).get_data(as_text=True)
    assert '<html lang="pl" dir="ltr">' in page
    assert "Jak bezpiecznie czujesz się w szkole?" in page
    assert re.search(r'value="very_safe" checked', page)
    assert stored(session, rid).language == "pl"


def test_done_clears_the_browser(client: Any, school: dict[str, Any]) -> None:
    rid = start(client, school["code"].code)
    reply = client.get("/done?who=class")
    assert reply.headers["Clear-Site-Data"] == '"cache", "cookies", "storage"'
    assert "pass the device to the next pupil" in reply.get_data(as_text=True)
    assert "/resume" in client.get(f"/s/{rid}/check").headers["Location"]


def test_resident_postcode_is_asked_first_and_places_them_in_an_area(
    client: Any, session: Session, make_site: Any, make_wave: Any, make_code: Any
) -> None:
    wave = make_wave()
    hackney = make_site("A1", kind="area", name="Wide area", postcodes="E")
    pembury = make_site("A2", kind="area", name="Pembury", postcodes="E8 E5 0")
    code = make_code(wave, hackney, kind="area", instrument="resident_baseline")
    landing = client.get(f"/r/{code.code}")
    assert landing.status_code == 200
    assert session.scalar(select(func.count(Response.id))) == 0  # a GET writes nothing
    session.rollback()
    rid = start(client, code.code)
    token = token_of(client, rid)
    reply = client.post(f"/s/{rid}/language", data={"lang": "ur", "draft_token": token})
    assert reply.headers["Location"].endswith(f"/s/{rid}/q/postcode")
    page = client.get(f"/s/{rid}/q/postcode").get_data(as_text=True)
    assert '<html lang="ur" dir="rtl">' in page
    bad = post_page(client, rid, "postcode", {"postcode": "not a postcode"}, token)
    assert "براہِ کرم یوکے پوسٹ کوڈ" in bad.get_data(as_text=True)
    post_page(client, rid, "postcode", {"postcode": "e8 1"}, token)
    response = stored(session, rid)
    assert response.site_id == pembury.id
    assert response.channel == "web"
    about = client.get(f"/s/{rid}/q/about_you").get_data(as_text=True)
    assert 'name="postcode"' not in about


@pytest.mark.parametrize(
    ("postcode", "prefixes", "score"),
    [
        ("E8 1AB", "E8", 2),
        ("e8 1", "E8 1", 3),
        ("E81AB", "E8 1", 3),
        ("E10 5", "E1", 0),
        ("E10 5", "E", 1),
        ("N1", "E8 E5", 0),
        ("", "E8", 0),
    ],
)
def test_postcode_prefixes_match_districts_and_sectors(
    postcode: str, prefixes: str, score: int
) -> None:
    assert match_postcode(postcode, prefixes) == score


def test_pages_split_where_a_question_depends_on_the_same_page() -> None:
    pupil = load_builtin("pupil_perception")
    keys = [p.key for p in page_layout(pupil)]
    assert keys[keys.index("bullying") + 1] == "told_someone"
    assert "activities_often" in keys
    assert "thanks" not in keys
    resident = load_builtin("resident_baseline")
    assert page_layout(resident, early_postcode=True)[0].key == "postcode"


@pytest.mark.parametrize("typed", ["sunny-otter-42", "Sunny Otter 42", "sunnyotter42"])
def test_resume_words_are_read_generously(typed: str) -> None:
    assert _canonical_word(typed) == "sunny-otter-42"


def test_teacher_page_shows_counts_never_answers(
    app: Any, client: Any, session: Session, school: dict[str, Any]
) -> None:
    cls = school["cls"]
    cls.teacher_pin_hash = FAST.hash("4821")  # set_teacher_pin, with cheap test parameters
    session.add(cls)
    session.commit()
    pupil = app.test_client()
    rid = start(pupil, school["code"].code)
    token = token_of(pupil, rid)
    post_page(pupil, rid, "your_ideas", {"area_better": "A secret skate park idea"}, token)
    pupil.post(f"/s/{rid}/submit", data={"draft_token": token})
    start(app.test_client(), school["code"].code)  # a second pupil has started
    wrong = client.post("/teacher", data={"code": school["code"].code, "pin": "0000"})
    assert "not right" in wrong.get_data(as_text=True)
    reply = client.post("/teacher", data={"code": school["code"].code, "pin": "4821"})
    assert reply.headers["Location"].endswith("/teacher/live")
    page = client.get("/teacher/live").get_data(as_text=True)
    assert re.search(r'data-count="answering">1<', page)  # the second pupil
    assert re.search(r'data-count="started">2<', page)
    assert re.search(r'data-count="finished">1<', page)
    assert "of 28 in the class" in page
    assert "skate park" not in page
    assert rid not in page
    data = client.get("/teacher/live?format=json").get_json()
    assert data == {"started": 2, "answering": 1, "finished": 1, "size": 28}


def test_school_staff_see_only_their_own_classes_counts(
    app: Any, session: Session, school: dict[str, Any], community: Any
) -> None:
    def staff(sites: tuple[Any, ...], email: str) -> Any:
        user = User(
            community_id=community.id,
            email=email,
            password_hash=FAST.hash("pw"),
            role="school_staff",
        )
        user.sites = [UserSite(site_id=s.id) for s in sites]
        session.add(user)
        session.commit()
        client = app.test_client()
        assert client.post("/login", data={"email": email, "password": "pw"}).status_code == 302
        return client

    url = f"/teacher/class/{school['cls'].id}/{school['wave'].id}"
    assert app.test_client().get(url).status_code == 302  # sign in first
    head = staff((school["site"],), "head@example.org")
    assert head.get(url).status_code == 200
    assert staff((), "elsewhere@example.org").get(url).status_code == 404  # not revealed
    # their class with another community's wave: 404, and that wave's name never shown
    other = get_or_create_community(session, slug="tower", name="Tower Children's Community")
    foreign = create_wave(session, community=other, name="Tower secret wave", instrument_ids=[])
    session.commit()
    reply = head.get(f"/teacher/class/{school['cls'].id}/{foreign.id}")
    assert reply.status_code == 404 and b"Tower secret wave" not in reply.data


def test_teacher_pin_is_stored_as_an_argon2_hash(school: dict[str, Any]) -> None:
    cls = school["cls"]
    set_teacher_pin(cls, "4821")
    assert cls.teacher_pin_hash.startswith("$argon2")
    assert "4821" not in cls.teacher_pin_hash
    assert check_teacher_pin(cls, "4821")
    assert not check_teacher_pin(cls, "4822")


def test_interface_text_follows_the_survey_language(
    client: Any, make_site: Any, make_wave: Any, make_code: Any
) -> None:
    wave = make_wave()
    area = make_site("A1", kind="area", postcodes="E8")
    code = make_code(wave, area, kind="area", instrument="resident_baseline")
    rid = start(client, code.code)
    token = token_of(client, rid)
    client.post(f"/s/{rid}/language", data={"lang": "tr", "draft_token": token})
    page = client.get(f"/s/{rid}/q/postcode").get_data(as_text=True)
    assert "İleri" in page  # "Next"
    assert "Posta kodunuzun (postcode) ilk kısmı nedir?" in page
    done = client.get("/done?who=web&lang=tr").get_data(as_text=True)
    assert "Teşekkür ederiz" in done
    start_page = client.get("/start?lang=pl").get_data(as_text=True)
    assert "Wpisz swój kod" in start_page
    assert '<html lang="pl"' in start_page
