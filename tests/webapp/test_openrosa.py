"""The OpenRosa API as ODK Collect and KoboCollect use it."""

from __future__ import annotations

import base64
import hashlib
import io
import uuid
import xml.etree.ElementTree as ET
from typing import Any

import pytest
from defusedxml.ElementTree import fromstring as safe_fromstring
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveys.models import Response, User
from surveys.models.field import ConsentRecord
from surveys.services import field as field_service
from webapp.openrosa.instance import BadInstance, parse_instance

pytestmark = pytest.mark.usefixtures("fast_passwords")

PASSWORD = "correct horse battery staple"
XFORMS_LIST = "{http://openrosa.org/xforms/xformsList}"
OR_RESPONSE = "{http://openrosa.org/http/response}"
XF = "{http://www.w3.org/2002/xforms}"

#: An instance document as ODK Collect v2024 writes it for the peer_interview form.
COLLECT_INSTANCE = """<?xml version='1.0' ?><data id="peer_interview" version="2027.2" \
xmlns:h="http://www.w3.org/1999/xhtml" xmlns:jr="http://openrosa.org/javarosa" \
xmlns:orx="http://openrosa.org/xforms" xmlns:odk="http://www.opendatakit.org/xforms" \
xmlns:ev="http://www.w3.org/2001/xml-events" xmlns:xsd="http://www.w3.org/2001/XMLSchema">\
<area>Millfields</area><consent_script /><consent>yes</consent>\
<respondent_under16>no</respondent_under16><parent_consent /><no_consent />\
<interview><core><core_intro /><area_satisfaction>fairly_satisfied</area_satisfaction>\
<bring_up_children>fairly_good</bring_up_children><play_places>tend_disagree</play_places>\
<belong_neighbourhood>fairly_strongly</belong_neighbourhood><pull_together>dont_know\
</pull_together><backgrounds_get_on>tend_agree</backgrounds_get_on>\
<safe_after_dark>a_bit_unsafe</safe_after_dark><influence_decisions>tend_disagree\
</influence_decisions></core><open><open_intro />\
<good_for_children>The adventure playground &amp; the library on Saturdays.</good_for_children>\
<makes_it_hard>Rents, and nowhere for teenagers to go.</makes_it_hard><places_go />\
<places_avoid /><who_turn_to>Family hub</who_turn_to><services_experience />\
<one_change>A youth club open in the evenings</one_change></open><close /></interview>\
<meta><instanceID>uuid:{instance_id}</instanceID></meta></data>"""

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<data id="peer_interview"><area>&lol3;</area><meta><instanceID>uuid:x</instanceID></meta></data>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE data [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<data id="peer_interview"><area>&secret;</area><meta><instanceID>uuid:x</instanceID></meta></data>"""


@pytest.fixture
def odk(session: Session, make_site, make_wave, make_user) -> dict[str, Any]:
    area = make_site("A1", kind="area", name="Millfields")
    wave = make_wave()
    admin = make_user("admin")
    researcher = make_user("researcher", email="collect@example.org")
    outsider = make_user("researcher", email="outsider@example.org")
    for instrument in ("peer_interview", "resident_baseline"):
        field_service.assign_researcher(
            session,
            actor_id=admin.id,
            user=researcher,
            wave=wave,
            site=area,
            instrument_id=instrument,
        )
    session.commit()
    return {
        "area": area,
        "wave": wave,
        "researcher": researcher,
        "outsider": outsider,
        "admin": admin,
    }


def basic(email: str, password: str = PASSWORD) -> dict[str, str]:
    token = base64.b64encode(f"{email}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}", "X-OpenRosa-Version": "1.0"}


def submit(client: Any, xml: str | bytes, email: str = "collect@example.org") -> Any:
    data = xml.encode() if isinstance(xml, str) else xml
    return client.post(
        "/openrosa/submission",
        data={"xml_submission_file": (io.BytesIO(data), "submission.xml", "text/xml")},
        headers=basic(email),
        content_type="multipart/form-data",
    )


def responses(session: Session) -> list[Response]:
    session.rollback()
    return list(session.scalars(select(Response)))


def message(response: Any) -> str:
    root = safe_fromstring(response.data)
    assert root.tag == f"{OR_RESPONSE}OpenRosaResponse"
    return root.find(f"{OR_RESPONSE}message").text or ""


def test_every_route_asks_for_basic_credentials(client, odk):
    for method, url in (
        ("get", "/openrosa/formList"),
        ("head", "/openrosa/submission"),
        ("post", "/openrosa/submission"),
    ):
        response = getattr(client, method)(url)
        assert response.status_code == 401, url
        assert response.headers["WWW-Authenticate"].startswith('Basic realm="placevoice"')
        assert response.headers["X-OpenRosa-Version"] == "1.0"
    wrong = client.get("/openrosa/formList", headers=basic("collect@example.org", "nope"))
    assert wrong.status_code == 401
    # staff who are not researchers cannot use Collect
    admin = client.get("/openrosa/formList", headers=basic(odk["admin"].email))
    assert admin.status_code == 401


def test_form_list_parses_as_openrosa_and_hashes_match_downloads(client, odk):
    listing = client.get("/openrosa/formList", headers=basic("collect@example.org"))
    assert listing.status_code == 200
    assert listing.headers["X-OpenRosa-Version"] == "1.0"
    assert listing.mimetype == "text/xml"
    root = safe_fromstring(listing.data)
    assert root.tag == f"{XFORMS_LIST}xforms"
    forms = {x.findtext(f"{XFORMS_LIST}formID"): x for x in root.findall(f"{XFORMS_LIST}xform")}
    assert set(forms) == {"peer_interview", "resident_baseline"}
    entry = forms["peer_interview"]
    assert entry.findtext(f"{XFORMS_LIST}version") == "2027.2"
    url = entry.findtext(f"{XFORMS_LIST}downloadUrl")
    download = client.get(url.replace("http://localhost", ""), headers=basic("collect@example.org"))
    assert download.status_code == 200
    expected = "md5:" + hashlib.md5(download.data, usedforsecurity=False).hexdigest()
    assert entry.findtext(f"{XFORMS_LIST}hash") == expected
    xform = safe_fromstring(download.data)
    data = xform.find(f".//{XF}instance/{XF}data")
    assert data.get("id") == "peer_interview" and data.get("version") == "2027.2"
    assert data.findtext(f"{XF}area") == "Millfields"  # the researcher's one area, filled in
    # another researcher neither lists nor downloads it
    outsider = client.get("/openrosa/formList", headers=basic("outsider@example.org"))
    assert safe_fromstring(outsider.data).findall(f"{XFORMS_LIST}xform") == []
    path = url.replace("http://localhost", "")
    assert client.get(path, headers=basic("outsider@example.org")).status_code == 404


def test_head_submission_advertises_the_size_limit(client, odk):
    response = client.head("/openrosa/submission", headers=basic("collect@example.org"))
    assert response.status_code == 204
    assert int(response.headers["X-OpenRosa-Accept-Content-Length"]) == 10 * 1024 * 1024
    assert response.headers["Location"].endswith("/openrosa/submission")


def test_submission_resubmission_and_conflict(client, session, odk):
    instance_id = str(uuid.uuid4())
    xml = COLLECT_INSTANCE.replace("{instance_id}", instance_id)
    first = submit(client, xml)
    assert first.status_code == 201, first.data
    assert first.headers["X-OpenRosa-Version"] == "1.0"
    assert "received" in message(first)
    [row] = responses(session)
    assert row.id == instance_id and row.channel == "odk" and row.status == "submitted"
    assert row.researcher_id == odk["researcher"].id and row.site_id == odk["area"].id
    assert row.answers["area_satisfaction"] == "fairly_satisfied"  # nested groups flattened
    assert row.answers["good_for_children"].startswith("The adventure playground & the")
    assert "pull_together" in row.answers and row.answers["pull_together"] == "dont_know"
    assert session.get(ConsentRecord, instance_id).consent is True

    again = submit(client, xml)
    assert again.status_code == 202
    assert len(responses(session)) == 1

    changed = xml.replace("fairly_satisfied", "very_satisfied")
    conflict = submit(client, changed)
    assert conflict.status_code == 409
    assert "different" in message(conflict)
    [row] = responses(session)
    assert row.answers["area_satisfaction"] == "fairly_satisfied"


def _filled(xform: bytes, values: dict[str, str], instance_id: str) -> bytes:
    """Fill the XForm's instance template the way Collect does, and serialise it."""
    ET.register_namespace("", XF[1:-1])
    root = safe_fromstring(xform)
    data = root.find(f".//{XF}instance/{XF}data")
    for element in data.iter():
        name = element.tag.rsplit("}", 1)[-1]
        if name in values:
            element.text = values[name]
        if name == "instanceID":
            element.text = f"uuid:{instance_id}"
    return b"<?xml version='1.0' ?>" + ET.tostring(data)


def test_select_multiple_is_space_separated(client, session, odk):
    listing = safe_fromstring(
        client.get("/openrosa/formList", headers=basic("collect@example.org")).data
    )
    url = next(
        x.findtext(f"{XFORMS_LIST}downloadUrl")
        for x in listing.findall(f"{XFORMS_LIST}xform")
        if x.findtext(f"{XFORMS_LIST}formID") == "resident_baseline"
    )
    xform = client.get(
        url.replace("http://localhost", ""), headers=basic("collect@example.org")
    ).data
    instance_id = str(uuid.uuid4())
    document = _filled(xform, {"services_used": "library parks"}, instance_id)
    response = submit(client, document)
    assert response.status_code in (201, 400), response.data
    if response.status_code == 400:  # a required question the filler left empty
        pytest.fail(message(response))
    row = session.get(Response, instance_id)
    assert row.answers["services_used"] == ["library", "parks"]


def test_refused_consent_keeps_only_the_consent_record(client, session, odk):
    instance_id = str(uuid.uuid4())
    xml = COLLECT_INSTANCE.replace("{instance_id}", instance_id).replace(
        "<consent>yes</consent>", "<consent>no</consent>"
    )
    response = submit(client, xml)
    assert response.status_code == 201
    assert responses(session) == []
    record = session.get(ConsentRecord, instance_id)
    assert record.consent is False and record.channel == "odk"


@pytest.mark.parametrize(
    ("document", "fragment"),
    [
        (b"<data id='peer_interview'><area>unclosed</data>", "cannot be read"),
        (b"not xml at all", "cannot be read"),
        (BILLION_LAUGHS, "refused"),
        (EXTERNAL_ENTITY, "refused"),
        (b"<data><area>x</area></data>", "no form id"),
        (b"<data id='peer_interview'><area>x</area></data>", "instanceID"),
    ],
)
def test_bad_xml_and_xml_bombs_are_rejected_cleanly(client, session, odk, document, fragment):
    response = submit(client, document)
    assert response.status_code == 400
    assert fragment in message(response)
    assert responses(session) == []


def test_missing_file_and_too_large(client, odk):
    empty = client.post(
        "/openrosa/submission",
        data={},
        headers=basic("collect@example.org"),
        content_type="multipart/form-data",
    )
    assert empty.status_code == 400
    big = b"<data id='peer_interview'>" + b"x" * (10 * 1024 * 1024 + 10) + b"</data>"
    body = (
        b"--b\r\nContent-Disposition: form-data; name=xml_submission_file; filename=s.xml\r\n"
        b"Content-Type: text/xml\r\n\r\n" + big + b"\r\n--b--\r\n"
    )
    too_large = client.post(
        "/openrosa/submission",
        data=body,  # raw bytes: the test client keeps them in memory
        headers=basic("collect@example.org"),
        content_type="multipart/form-data; boundary=b",
    )
    assert too_large.status_code == 413


def test_unassigned_researcher_cannot_submit(client, session, odk):
    xml = COLLECT_INSTANCE.replace("{instance_id}", str(uuid.uuid4()))
    response = submit(client, xml, email="outsider@example.org")
    assert response.status_code == 403
    assert responses(session) == []


@pytest.fixture
def csrf_app_config(app_config):
    app_config["WTF_CSRF_ENABLED"] = True
    return app_config


def test_openrosa_is_exempt_from_form_csrf(csrf_app_config, client, session, odk):
    xml = COLLECT_INSTANCE.replace("{instance_id}", str(uuid.uuid4()))
    assert submit(client, xml).status_code == 201
    assert session.scalar(select(func.count()).select_from(Response)) == 1


def test_parse_instance_flattens_groups_and_reads_meta():
    parsed = parse_instance(
        b"<data id='f' version='3' xmlns:orx='http://openrosa.org/xforms'><g><h><q>a b</q></h>"
        b"<r/></g><orx:meta><orx:instanceID>uuid:abc</orx:instanceID>"
        b"<orx:deprecatedID>uuid:old</orx:deprecatedID></orx:meta></data>"
    )
    assert (parsed.form_id, parsed.version, parsed.instance_id) == ("f", "3", "abc")
    assert parsed.answers == {"q": "a b"} and parsed.deprecated_id == "old"
    with pytest.raises(BadInstance, match="more than once"):
        parse_instance(
            b"<data id='f'><q>1</q><g><q>2</q></g><meta><instanceID>x</instanceID></meta></data>"
        )


def test_password_guessing_is_rate_limited(client, odk):
    for _ in range(10):
        wrong = client.get("/openrosa/formList", headers=basic("collect@example.org", "guess"))
        assert wrong.status_code == 401
    blocked = client.get("/openrosa/formList", headers=basic("collect@example.org", PASSWORD))
    assert blocked.status_code == 429
    assert int(blocked.headers["Retry-After"]) > 0


def test_guessing_one_account_does_not_lock_out_colleagues_on_the_same_address(client, odk):
    """Throttling is per account and address: one school Wi-Fi, many researchers."""
    for n in range(11):
        client.get("/openrosa/formList", headers=basic("collect@example.org", f"guess{n}"))
    colleague = client.get("/openrosa/formList", headers=basic("outsider@example.org", PASSWORD))
    assert colleague.status_code == 200
    elsewhere = client.get(
        "/openrosa/formList",
        headers=basic("collect@example.org", PASSWORD),
        environ_base={"REMOTE_ADDR": "10.0.7.7"},
    )
    assert elsewhere.status_code == 200
    here = client.get("/openrosa/formList", headers=basic("collect@example.org", PASSWORD))
    assert here.status_code == 429


def test_guessing_one_account_from_many_addresses_is_throttled_per_account(
    client, odk, monkeypatch
):
    from webapp.auth import throttle

    monkeypatch.setattr(throttle, "ACCOUNT_LIMITS", (throttle.Limit(5, 3600),))
    for n in range(5):
        wrong = client.get(
            "/openrosa/formList",
            headers=basic("collect@example.org", f"guess{n}"),
            environ_base={"REMOTE_ADDR": f"10.0.0.{n + 1}"},
        )
        assert wrong.status_code == 401
    blocked = client.get(
        "/openrosa/formList",
        headers=basic("collect@example.org", "guess-again"),
        environ_base={"REMOTE_ADDR": "10.0.9.9"},
    )
    assert blocked.status_code == 429


def test_verified_credentials_are_remembered_until_the_password_changes(
    client, session, odk, monkeypatch
):
    from surveys.services import field as field_service
    from surveys.services.setup import password_hasher
    from webapp.openrosa import routes

    routes._verified.clear()
    calls = []
    real = field_service.authenticate_researcher

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(field_service, "authenticate_researcher", counting)
    for _ in range(3):
        assert (
            client.get("/openrosa/formList", headers=basic("collect@example.org")).status_code
            == 200
        )
    assert len(calls) == 1
    assert (
        client.get("/openrosa/formList", headers=basic("collect@example.org", "wrong")).status_code
        == 401
    )
    assert len(calls) == 2
    user = session.scalar(select(User).where(User.email == "collect@example.org"))
    user.password_hash = password_hasher().hash("a brand new password")
    session.commit()
    assert client.get("/openrosa/formList", headers=basic("collect@example.org")).status_code == 401
    assert len(calls) == 3
