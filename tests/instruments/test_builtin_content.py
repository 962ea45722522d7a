"""Content checks for the built-in instruments (instruments/builtin/*.md).

These read the files the product ships, convert them with pyxform exactly as the
instrument loader does, and check the survey-methodology rules from DESIGN.md
sections 2, 5 and 9: analysis columns, sources, licensed wording, translations.
"""

import re
import unicodedata
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from pyxform.xls2xform import convert

BUILTIN = Path(__file__).resolve().parents[2] / "instruments" / "builtin"
INSTRUMENTS = ["pupil_perception", "resident_baseline", "peer_interview", "partnership"]

EN, PL, TR, UR = "English (en)", "Polski (pl)", "Türkçe (tr)", "اردو (ur)"
LANGUAGES = {
    "pupil_perception": {EN, PL},
    "resident_baseline": {EN, PL, TR, UR},
    "peer_interview": {EN, PL},
    "partnership": {EN},
}
ITEM_RANGES = {"pupil_perception": (28, 35), "resident_baseline": (20, 25)}
DOMAINS = {
    "pupil_perception": set(
        "wellbeing safety belonging relationships"
        " bullying aspirations neighbourhood activities".split()
    ),
    "resident_baseline": set(
        "place belonging cohesion safety participation wellbeing services awareness".split()
    ),
}
PEER_CORE = (
    "area_satisfaction bring_up_children play_places belong_neighbourhood"
    " pull_together backgrounds_get_on safe_after_dark influence_decisions"
).split()
PEER_OPEN = set(
    "good_for_children makes_it_hard places_go places_avoid"
    " who_turn_to services_experience one_change".split()
)
ANALYSIS_COLUMNS = ("domain", "scale", "positive", "reverse", "report")

# Distinctive phrases from licensed instruments (WEMWBS/SWEMWBS, SDQ) that may not ship.
FORBIDDEN_PHRASES = [
    "I've been feeling optimistic about the future",
    "I've been feeling useful",
    "I've been feeling relaxed",
    "I've been dealing with problems well",
    "I've been thinking clearly",
    "I've been feeling close to other people",
    "I've been able to make up my own mind about things",
    "Considerate of other people's feelings",
    "Restless, overactive, cannot stay still for long",
    "Often complains of headaches, stomach-aches or sickness",
    "Shares readily with other children",
    "Often has temper tantrums",
    "Generally liked by other children",
    "Thinks things out before acting",
    "Warwick-Edinburgh",
    "Strengths and Difficulties",
]


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).replace("\u2019", "'").replace("\u2018", "'")
    return " ".join(text.casefold().split())


def forbidden_phrases_in(text: str) -> list[str]:
    flat = _normalise(text)
    return [p for p in FORBIDDEN_PHRASES if _normalise(p) in flat]


@cache
def _converted(name: str) -> tuple[dict[str, Any], tuple[str, ...]]:
    warnings: list[str] = []
    result = convert(xlsform=BUILTIN / f"{name}.md", warnings=warnings)
    return result._pyxform, tuple(warnings)


def form(name: str) -> dict[str, Any]:
    return _converted(name)[0]


def walk(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every element below ``node`` in document order, except the generated meta group."""
    for child in node.get("children", []):
        if child.get("name") == "meta" and child.get("type") == "group":
            continue
        yield child
        yield from walk(child)


def questions(name: str) -> list[dict[str, Any]]:
    return [e for e in walk(form(name)) if e["type"] not in {"group", "repeat", "note"}]


def by_name(name: str) -> dict[str, dict[str, Any]]:
    return {q["name"]: q for q in questions(name)}


def is_select(q: dict[str, Any]) -> bool:
    return q["type"] in {"select one", "select all that apply"}


def analysed_selects(name: str) -> list[dict[str, Any]]:
    return [q for q in questions(name) if is_select(q) and q.get("report") != "no"]


def choices(name: str, list_name: str) -> list[dict[str, Any]]:
    return form(name)["choices"][list_name]


def choice_names(name: str, list_name: str) -> list[str]:
    return [c["name"] for c in choices(name, list_name)]


def relevance_of(element: dict[str, Any]) -> str:
    return element.get("bind", {}).get("relevant", "")


instruments = pytest.mark.parametrize("name", INSTRUMENTS)


# --- every instrument -------------------------------------------------------------------


@instruments
def test_converts_with_no_warnings(name):
    assert _converted(name)[1] == ()


@instruments
def test_settings(name):
    f = form(name)
    assert f["id_string"] == name
    assert re.fullmatch(r"\d{4}\.\d+", f["version"])
    assert f["default_language"] == EN
    drafts = [d.strip() for d in f.get("draft_languages", "").split(",") if d.strip()]
    assert set(drafts) == LANGUAGES[name] - {EN}


@instruments
def test_every_question_and_note_has_a_source(name):
    elements = [e for e in walk(form(name)) if e["type"] not in {"group", "repeat"}]
    missing = [e["name"] for e in elements if not e.get("source", "").strip()]
    assert missing == []


@instruments
def test_item_names_are_unique(name):
    names = [q["name"] for q in questions(name)]
    assert len(names) == len(set(names))


@instruments
def test_nothing_is_or_other(name):
    assert not [q["name"] for q in questions(name) if "or_other" in q["type"]]
    assert not [q["name"] for q in questions(name) if "other" in q.get("parameters", {})]


@instruments
def test_analysed_selects_have_domain_and_valid_positive(name):
    for q in analysed_selects(name):
        assert q.get("domain"), q["name"]
        positive = q.get("positive", "").split()
        assert positive, q["name"]
        listed = {c["name"]: c for c in choices(name, q["list_name"])}
        for p in positive:
            assert p in listed, f"{q['name']}: positive {p!r} is not in {q['list_name']}"
            assert listed[p].get("missing") != "yes", f"{q['name']}: {p!r} counts as missing"


@instruments
def test_analysis_columns_only_on_questions_that_use_them(name):
    for q in questions(name):
        assert q.get("reverse") in {None, "yes"}, q["name"]
        assert q.get("report") in {None, "no"}, q["name"]
        if not is_select(q):
            assert "positive" not in q and "reverse" not in q and "scale" not in q, q["name"]
            assert q.get("report") == "no", f"{q['name']}: only selects are analysed"
    if name in DOMAINS:
        used = {q["domain"] for q in analysed_selects(name)}
        assert used == DOMAINS[name]


@instruments
def test_scores_are_numeric_and_missing_choices_have_none(name):
    for list_name, rows in form(name)["choices"].items():
        valid = [c for c in rows if c.get("missing") != "yes"]
        for c in rows:
            assert c.get("missing") in {None, "yes"}, (list_name, c["name"])
            if c.get("missing") == "yes":
                assert "score" not in c, (list_name, c["name"])
            elif "score" in c:
                float(c["score"])  # raises ValueError if not a number
        scored = [c for c in valid if "score" in c]
        assert scored == [] or scored == valid, f"{list_name}: scores only on some choices"


@instruments
def test_positive_answers_are_the_best_scored(name):
    """Scores count 'how much' of what the item asks; reverse marks items where more is worse."""
    for q in analysed_selects(name):
        rows = [c for c in choices(name, q["list_name"]) if c.get("missing") != "yes"]
        if q["type"] != "select one" or not all("score" in c for c in rows):
            continue
        positive = set(q["positive"].split())
        pos = [float(c["score"]) for c in rows if c["name"] in positive]
        neg = [float(c["score"]) for c in rows if c["name"] not in positive]
        assert neg, f"{q['name']}: every answer counts as positive"
        if q.get("reverse") == "yes":
            assert max(pos) < min(neg), q["name"]
        else:
            assert min(pos) > max(neg), q["name"]


@instruments
def test_every_choice_list_is_used(name):
    used = {q["list_name"] for q in questions(name) if is_select(q)}
    assert set(form(name)["choices"]) == used


@instruments
def test_every_language_has_every_text(name):
    langs = LANGUAGES[name]
    for e in walk(form(name)):
        texts = {"label": e.get("label")}
        texts["hint"] = e.get("hint")
        texts["constraint_message"] = e.get("bind", {}).get("jr:constraintMsg")
        texts["required_message"] = e.get("bind", {}).get("jr:requiredMsg")
        assert texts["label"] is not None, e["name"]
        for column, text in texts.items():
            if text is None:
                continue
            assert isinstance(text, dict), (e["name"], column)
            assert set(text) == langs, (e["name"], column)
            assert all(v.strip() for v in text.values()), (e["name"], column)
    for list_name, rows in form(name)["choices"].items():
        for c in rows:
            assert set(c["label"]) == langs, (list_name, c["name"])
            assert all(v.strip() for v in c["label"].values()), (list_name, c["name"])


@instruments
def test_no_licensed_wording(name):
    text = (BUILTIN / f"{name}.md").read_text(encoding="utf-8")
    assert forbidden_phrases_in(text) == []


def test_forbidden_wording_check_catches_variants():
    assert forbidden_phrases_in("i\u2019ve BEEN feeling   optimistic about the future.") != []
    assert forbidden_phrases_in("Considerate of other people's feelings") != []
    assert forbidden_phrases_in("I have goals for my future.") == []


@instruments
def test_relevance_refers_to_earlier_questions(name):
    seen: set[str] = set()
    for e in walk(form(name)):
        for ref in re.findall(r"\$\{(\w+)\}", relevance_of(e)):
            assert ref in seen, f"{e['name']} depends on {ref}, which comes later"
        seen.add(e["name"])


# --- pupil_perception ---------------------------------------------------------------------


def test_pupil_item_count():
    low, high = ITEM_RANGES["pupil_perception"]
    assert low <= len(questions("pupil_perception")) <= high


def test_pupil_breakdown_questions():
    q = by_name("pupil_perception")
    assert q["year_group"]["report"] == "no"
    assert choice_names("pupil_perception", q["year_group"]["list_name"]) == [
        f"year{y}" for y in range(5, 12)
    ]
    assert q["gender"]["report"] == "no"
    genders = {c["name"]: c for c in choices("pupil_perception", q["gender"]["list_name"])}
    assert set(genders) == {"girl", "boy", "another_way", "pnts"}
    assert genders["pnts"]["missing"] == "yes"


def test_pupil_every_question_can_be_skipped():
    required = [q["name"] for q in questions("pupil_perception") if "required" in q.get("bind", {})]
    assert required == []


def test_pupil_life_satisfaction_is_0_to_10():
    q = by_name("pupil_perception")["life_satisfaction"]
    rows = choices("pupil_perception", q["list_name"])
    assert [(c["name"], float(c["score"])) for c in rows] == [(str(i), i) for i in range(11)]
    assert q["positive"].split() == ["7", "8", "9", "10"]


def test_pupil_school_belonging_scale():
    items = [q for q in questions("pupil_perception") if q.get("scale") == "school_belonging"]
    assert 3 <= len(items) <= 4
    assert len({q["list_name"] for q in items}) == 1
    assert any(q.get("reverse") == "yes" for q in items)
    assert not all(q.get("reverse") == "yes" for q in items)


def test_pupil_sensitive_items_offer_prefer_not_to_say():
    q = by_name("pupil_perception")
    for item in ["gender", "bullied_freq", "bullied_online", "adult_home", "told_someone"]:
        missing = [c for c in choices("pupil_perception", q[item]["list_name"]) if c.get("missing")]
        assert missing, item
    assert q["bullied_freq"]["positive"] == "never"


def test_pupil_activities_and_follow_up():
    q = by_name("pupil_perception")
    assert q["activities"]["type"] == "select all that apply"
    assert "none" in choice_names("pupil_perception", q["activities"]["list_name"])
    assert "none" not in q["activities"]["positive"].split()
    assert "${activities}" in relevance_of(q["activities_often"])
    assert "'none'" in relevance_of(q["activities_often"])


def test_pupil_open_question():
    q = by_name("pupil_perception")
    opens = [x for x in questions("pupil_perception") if x["type"] == "text" and not x.get("sgic")]
    assert [x["name"] for x in opens] == ["area_better"]
    assert q["area_better"]["report"] == "no"


def test_pupil_code_parts_come_first_are_never_reported_and_ask_no_name():
    q = by_name("pupil_perception")
    parts = [x for x in questions("pupil_perception") if x.get("sgic")]
    assert [(x["name"], x["sgic"]) for x in parts] == [
        ("code_carer", "1"),
        ("code_day", "2"),
        ("code_siblings", "3"),
        ("code_street", "4"),
    ]
    assert all(q[x["name"]]["report"] == "no" for x in parts)
    assert all("required" not in x.get("bind", {}) for x in parts)
    names = [x["name"] for x in questions("pupil_perception")]
    assert names.index("code_street") < names.index("year_group")


def test_pupil_groups_are_short_pages():
    for g in walk(form("pupil_perception")):
        if g["type"] == "group":
            assert g.get("control", {}).get("appearance") == "field-list", g["name"]
            assert 1 <= len([c for c in g["children"] if c["type"] != "note"]) <= 5, g["name"]


# --- resident_baseline --------------------------------------------------------------------


def test_resident_item_count():
    low, high = ITEM_RANGES["resident_baseline"]
    assert low <= len(questions("resident_baseline")) <= high


def test_resident_demographics():
    q = by_name("resident_baseline")
    expected = {
        "age_band": ["16-24", "25-34", "35-44", "45-54", "55-64", "65+"],
        "sex": ["female", "male", "pnts"],
        "tenure": ["owner", "social_rent", "private_rent", "other"],
    }
    for item, names in expected.items():
        assert choice_names("resident_baseline", q[item]["list_name"]) == names, item
        assert q[item]["report"] == "no"
    kids = q["children_in_household"]
    assert kids["type"] == "integer"
    assert kids["bind"]["constraint"] == ". >= 0 and . <= 15"
    assert kids["bind"]["jr:constraintMsg"][EN]


POSTCODES_ACCEPTED = ["E8", "e8", "E8 1", "SW1A", "SW1A 2", "OL6 9", "M1", "NE28 6", " E8 "]
POSTCODES_REJECTED = ["E8 1AB", "SW1A 2AA", "8E", "E", "EC1A1BB", "hello", ""]


@pytest.mark.parametrize(
    ("typed", "accepted"),
    [(p, True) for p in POSTCODES_ACCEPTED] + [(p, False) for p in POSTCODES_REJECTED],
)
def test_resident_postcode_accepts_districts_and_sectors_only(typed, accepted):
    constraint = by_name("resident_baseline")["postcode"]["bind"]["constraint"]
    pattern = re.fullmatch(r"regex\(\., '(.+)'\)", constraint).group(1)
    assert bool(re.search(pattern, typed)) is accepted


def test_resident_ons4_and_loneliness():
    q = by_name("resident_baseline")
    for item in ["life_satisfaction", "worthwhile", "happy_yesterday", "anxious_yesterday"]:
        assert q[item]["list_name"] == "ons0_10"
        assert "ONS, OGL v3" in q[item]["source"]
    for item in ["life_satisfaction", "worthwhile", "happy_yesterday"]:
        assert q[item]["positive"].split() == ["7", "8", "9", "10"]
        assert "reverse" not in q[item]
    assert q["anxious_yesterday"]["positive"].split() == ["0", "1", "2", "3"]
    assert q["anxious_yesterday"]["reverse"] == "yes"
    assert "ONS, OGL v3" in q["lonely"]["source"]


def test_resident_barriers_follow_services():
    q = by_name("resident_baseline")
    assert q["services_used"]["type"] == q["barriers"]["type"] == "select all that apply"
    assert "${services_used}" in relevance_of(q["barriers"])


def test_resident_language_codes_are_machine_readable():
    langs = set(by_name("resident_baseline")["area_satisfaction"]["label"])
    assert {re.search(r"\((\w+)\)$", lang).group(1) for lang in langs} == {"en", "pl", "tr", "ur"}


# --- peer_interview -----------------------------------------------------------------------


def test_peer_consent_gates_the_interview():
    f = form("peer_interview")
    q = by_name("peer_interview")
    assert choice_names("peer_interview", q["consent"]["list_name"]) == ["yes", "no"]
    assert choice_names("peer_interview", q["respondent_under16"]["list_name"]) == ["yes", "no"]
    assert "${respondent_under16} = 'yes'" in relevance_of(q["parent_consent"])
    top = [c for c in f["children"] if c.get("name") != "meta"]
    names = [c["name"] for c in top]
    assert names.index("consent_script") < names.index("consent")
    after_consent = top[names.index("parent_consent") + 1 :]
    groups = [c for c in after_consent if c["type"] == "group"]
    assert len(groups) == 1
    assert [c["type"] for c in after_consent if c is not groups[0]] == ["note"]
    gate = relevance_of(groups[0])
    assert "${consent} = 'yes'" in gate and "${parent_consent} = 'yes'" in gate
    inside = {e["name"] for e in walk(groups[0])}
    assert set(PEER_CORE) | PEER_OPEN <= inside


def test_peer_script_covers_consent_and_safeguarding():
    script = _normalise(
        next(e for e in walk(form("peer_interview")) if e["name"] == "consent_script")["label"][EN]
    )
    for point in ["your choice", "stop at any time", "anonymous", "reports", "safeguarding"]:
        assert point in script, point


def test_peer_open_questions():
    opens = {q["name"]: q for q in questions("peer_interview") if q["type"] == "text"}
    assert set(opens) - {"area"} == PEER_OPEN
    assert all(q["report"] == "no" for q in opens.values())


@pytest.mark.parametrize("item", PEER_CORE)
def test_peer_core_pools_with_resident_baseline(item):
    peer, resident = by_name("peer_interview")[item], by_name("resident_baseline")[item]
    assert peer["type"] == resident["type"]
    assert peer["list_name"] == resident["list_name"]
    for column in (*ANALYSIS_COLUMNS, "source"):
        assert peer.get(column) == resident.get(column), column
    for lang in LANGUAGES["peer_interview"]:
        assert peer["label"][lang] == resident["label"][lang], lang

    def strip(rows):
        keep = ("name", "score", "missing")
        return [{k: c.get(k) for k in keep} | {"label": c["label"][EN]} for c in rows]

    assert strip(choices("peer_interview", peer["list_name"])) == strip(
        choices("resident_baseline", resident["list_name"])
    )


# --- partnership --------------------------------------------------------------------------


def test_partnership_ties_carry_the_partner_tool_ratings():
    q = by_name("partnership")
    slots = sorted(int(n.split("_")[1]) for n in q if n.startswith("partner_") and n[8:].isdigit())
    assert slots == list(range(1, 11))
    for i in slots:
        for rating in ("frequency", "trust", "value"):
            item = q[f"{rating}_{i}"]
            assert item["list_name"] == f"{rating}4"
            assert "PARTNER tool" in item["source"]
            assert f"partner_{i}" in relevance_of(item)
    assert q["organisation"]["bind"]["required"] == "yes"
