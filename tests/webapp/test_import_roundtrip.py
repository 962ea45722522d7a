"""The same answers taken through the web and imported from each tool's export give the
same school summaries."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveys.analysis_bridge import wave_summary
from surveys.importing import import_responses, read_mapping
from surveys.models import Response, Wave
from tests.fixtures import exports

TOKEN = re.compile(r'name="draft_token" value="([0-9a-f]+)"')
PAGES = ("about_you", "happiness", "safety", "school_belonging", "out_of_school", "talk_to")


def take_through_the_web(client: Any, code: str, pupil: exports.Pupil) -> None:
    reply = client.post("/start", data={"code": code})
    assert reply.status_code == 302, reply.data[:300]
    match = re.search(r"/s/([0-9a-f-]{36})/intro", reply.headers["Location"])
    assert match
    rid = match.group(1)
    found = TOKEN.search(client.get(f"/s/{rid}/intro").get_data(as_text=True))
    assert found
    token = found.group(1)
    client.post(f"/s/{rid}/language", data={"lang": "en", "draft_token": token})
    pages = {item: page for page, item in exports.QUESTIONS}
    for page in (*PAGES, "your_ideas"):
        data: dict[str, Any] = {
            name: value for name, value in pupil.answers.items() if pages.get(name) == page
        }
        reply = client.post(f"/s/{rid}/q/{page}", data={**data, "draft_token": token})
        assert reply.status_code == 302, (page, reply.get_data(as_text=True)[:500])
    reply = client.post(f"/s/{rid}/submit", data={"draft_token": token})
    assert "/done" in reply.headers["Location"]


def summary(session: Session, wave: Wave) -> pd.DataFrame:
    items = wave_summary(session, wave, "school", "pupil_perception", k=5, trends=False).items
    return items.drop(columns=["wave"]).sort_values(["site", "item"]).reset_index(drop=True)


def test_every_export_summarises_as_the_web_does(
    client: Any,
    session: Session,
    make_site: Callable[..., Any],
    make_class: Callable[..., Any],
    make_wave: Callable[..., Wave],
    make_code: Callable[..., Any],
) -> None:
    people = exports.pupils(count=40)
    web = make_wave("Web")
    codes = {}
    for code, name in exports.SCHOOLS.items():
        site = make_site(code, name=name)
        codes[code] = make_code(web, site, make_class(site, "6A", 6, 30)).code
    for pupil in people:
        take_through_the_web(client, codes[pupil.site], pupil)
    session.rollback()
    assert session.scalar(select(func.count(Response.id)).where(Response.wave_id == web.id)) == 40
    expected = summary(session, web)
    assert expected["n"].fillna(0).sum() > 0  # something to compare
    files = {
        "kobo.csv": exports.kobo_csv(people),
        "kobo-labels.xlsx": exports.kobo_xlsx_labels(people),
        "odk.zip": exports.odk_zip(people),
        "surveymonkey.csv": exports.surveymonkey_csv(people),
        "paper.xlsx": exports.paper_xlsx(people),
    }
    mapping = read_mapping(exports.SM_MAPPING, source="mapping.yaml")
    for name, data in files.items():
        wave = make_wave(name)
        result = import_responses(
            session,
            wave=wave,
            instrument_id="pupil_perception",
            data=data,
            source=name,
            mapping=mapping if name.startswith("surveymonkey") else None,
        )
        session.commit()
        assert result.added == 40, name
        pd.testing.assert_frame_equal(summary(session, wave), expected, obj=name)
