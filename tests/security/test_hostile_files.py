"""Malformed and hostile files get one clear error, never a crash, a hang or a 500.

XLSForms (garbage, a zip that is not a workbook, an XML bomb inside a workbook), CSVs
(binary, NUL bytes, wrong encoding, a huge field), XML submissions (an XML bomb, external
entities) and a 100 MB upload.
"""

from __future__ import annotations

import io
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest

from instruments import InstrumentError
from instruments.loader import load_instrument
from surveys.errors import RowErrors, ServiceError
from surveys.services import parse_sites_csv
from tests.security.conftest import World

BILLION_LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
    + "".join(
        f' <!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n'
        for i in range(1, 10)
    )
    + "]>\n"
)


def _bomb(root: str) -> bytes:
    return (BILLION_LAUGHS + f"<{root}>&lol9;</{root}>").encode()


def _xlsx_with(member: str, payload: bytes) -> bytes:
    """A minimal workbook zip whose ``member`` is ``payload``."""
    from openpyxl import Workbook

    buffer = io.BytesIO()
    book = Workbook()
    book.active.title = "survey"
    book.active.append(["type", "name", "label"])
    book.active.append(["text", "q1", "Question"])
    book.save(buffer)
    source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            data = payload if item.filename == member else source.read(item.filename)
            target.writestr(item.filename, data)
    return out.getvalue()


HOSTILE_FORMS = {
    "random bytes": (b"\x00\xffPK\x03\x04 not really a zip" * 50, ".xlsx"),
    "empty": (b"", ".xlsx"),
    "zip without a workbook": (b"", ".xlsx"),
    "xml bomb in the sheet": (b"", ".xlsx"),
    "xml bomb in shared strings": (b"", ".xlsx"),
    "csv of binary": (bytes(range(256)) * 20, ".csv"),
    "markdown without a survey": (b"| hello |\n| --- |\n| world |\n", ".md"),
}


def _hostile_form(name: str) -> tuple[bytes, str]:
    data, suffix = HOSTILE_FORMS[name]
    if name == "zip without a workbook":
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("hello.txt", "hello")
        data = buffer.getvalue()
    elif name == "xml bomb in the sheet":
        data = _xlsx_with("xl/worksheets/sheet1.xml", _bomb("worksheet"))
    elif name == "xml bomb in shared strings":
        data = _xlsx_with("xl/sharedStrings.xml", _bomb("sst"))
    return data, suffix


@pytest.mark.parametrize("name", sorted(HOSTILE_FORMS))
def test_hostile_xlsforms_get_a_clear_error(name: str) -> None:
    data, suffix = _hostile_form(name)
    started = time.perf_counter()
    try:
        instrument = load_instrument(data, file_type=suffix, name=f"hostile{suffix}")
    except InstrumentError as err:
        message = str(err)
    else:
        # A bomb in a part the loader never reads (unused shared strings): no expansion.
        assert name == "xml bomb in shared strings"
        assert all("lol" not in repr(item) for item in instrument.items)
        assert time.perf_counter() - started < 5
        return
    assert time.perf_counter() - started < 5
    assert "hostile" in message and len(message) < 500
    assert "Traceback" not in message


@pytest.mark.parametrize("name", ["random bytes", "xml bomb in the sheet"])
def test_cli_validate_prints_one_error_line(name: str, tmp_path: Path, run_cli: Any) -> None:
    data, suffix = _hostile_form(name)
    path = tmp_path / f"form{suffix}"
    path.write_bytes(data)
    result = run_cli("instruments", "validate", str(path))
    assert result.exit_code == 1
    assert "error:" in result.output and f"form{suffix}" in result.output


HOSTILE_CSVS = {
    "binary": bytes(range(256)) * 10,
    "nul bytes": b"site_id,name,kind\nS1,Sch\x00ool,school\n",
    "latin-1": "site_id,name,kind\nS1,\xc9cole,school\n".encode("latin-1"),
    "utf-16": "site_id,name,kind\nS1,School,school\n".encode("utf-16"),
    # over the csv module's 128 KB field limit, under the 500 KB a multipart part is
    # spooled to disk at (which the test client leaves open)
    "huge field": b"site_id,name,kind\nS1," + b"x" * 300_000 + b",school\n",
    "unbalanced quotes": b'site_id,name,kind\nS1,"School,school\n',
    "header only": b"site_id,name,kind\n",
    "formula injection": b'site_id,name,kind\nS1,=HYPERLINK("http://evil"),school\n',
}


@pytest.mark.parametrize("name", sorted(HOSTILE_CSVS))
def test_hostile_csvs_are_parsed_or_refused_clearly(name: str) -> None:
    try:
        rows = parse_sites_csv(HOSTILE_CSVS[name], source="sites.csv")
    except (RowErrors, ServiceError) as err:
        text = str(err)
        assert "sites.csv" in text and "Traceback" not in text
        return
    assert all(len(r.name) <= 200 for r in rows), "over-long names must be refused"


@pytest.mark.parametrize("name", sorted(HOSTILE_CSVS))
def test_hostile_response_imports_are_refused_clearly(
    name: str, tmp_path: Path, run_cli: Any, world: World
) -> None:
    path = tmp_path / "responses.csv"
    path.write_bytes(HOSTILE_CSVS[name])
    result = run_cli(
        "responses",
        "import",
        str(path),
        "--instrument",
        "pupil_perception",
        "--wave",
        world.wave.name,
    )
    assert result.exit_code in (0, 1)
    if result.exit_code:
        assert "error:" in result.output and "Traceback" not in result.output


def _post_file(client: Any, path: str, field: str, data: bytes, filename: str, **kw: Any) -> Any:
    """POST a multipart file, closing the encoder's spooled body (a temp file over 500 KB)."""
    from werkzeug.test import EnvironBuilder

    builder = EnvironBuilder(
        path=path, method="POST", data={field: (io.BytesIO(data), filename)}, **kw
    )
    try:
        return client.open(builder)
    finally:
        builder.close()


def test_site_upload_of_hostile_files_never_500s(world: World, client_as: Any) -> None:
    client = client_as("admin")
    for name, data in HOSTILE_CSVS.items():
        reply = _post_file(client, "/admin/sites", "csv-file", data, "sites.csv")
        assert reply.status_code in (200, 302, 400), (name, reply.status_code)


def _odk(client: Any, world: World, xml: bytes) -> Any:
    import base64

    from tests.conftest import PASSWORD

    token = base64.b64encode(f"{world.users['researcher'].email}:{PASSWORD}".encode()).decode()
    return client.post(
        "/openrosa/submission",
        data={"xml_submission_file": (io.BytesIO(xml), "submission.xml")},
        headers={"Authorization": f"Basic {token}", "X-OpenRosa-Version": "1.0"},
        content_type="multipart/form-data",
    )


@pytest.mark.parametrize(
    "xml",
    [
        _bomb("data"),
        b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><data>&x;</data>',
        b"<data><unclosed></data>",
        b"\xff\xfe not xml",
        b"",
    ],
    ids=["billion-laughs", "external-entity", "malformed", "binary", "empty"],
)
def test_hostile_xml_submissions_get_400(app: Any, world: World, xml: bytes) -> None:
    if "openrosa.submission" not in app.view_functions:
        pytest.skip("OpenRosa is not installed")
    started = time.perf_counter()
    reply = _odk(app.test_client(), world, xml)
    assert time.perf_counter() - started < 5
    assert reply.status_code == 400
    assert b"root:" not in reply.data  # /etc/passwd never echoed


def test_a_100_mb_upload_is_refused_with_413(world: World, client_as: Any) -> None:
    """Refused from the Content-Length before the body is read."""
    body = io.BytesIO(b"0" * (100 * 1024 * 1024))
    for role, path in (
        ("admin", "/admin/sites"),
        ("anonymous", "/start"),
        ("admin", "/field/upload"),
    ):
        body.seek(0)
        reply = client_as(role).post(
            path,
            input_stream=body,
            content_type="multipart/form-data; boundary=x",
            headers={"Content-Length": str(100 * 1024 * 1024)},
        )
        assert reply.status_code == 413, (path, reply.status_code)
        assert b"too large" in reply.data
