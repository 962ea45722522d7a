"""Every language, everywhere: only languages the questionnaire has are offered, titles
and the intro are translated, the time estimate comes from the instrument."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from babel.messages.pofile import read_po

from instruments import load_builtin, load_instrument
from tests.webapp.test_take import start
from webapp.take.i18n import TRANSLATIONS


def _offered(page: str) -> set[str]:
    nav = page.split('class="lang-switch"', 1)[1].split("</ul>", 1)[0]
    return set(re.findall(r'lang="([a-z]{2})"', nav))


def test_start_page_offers_only_the_languages_the_questionnaires_have(
    client: Any, make_site: Any, make_class: Any, make_wave: Any, make_code: Any
) -> None:
    wave = make_wave(instruments=("pupil_perception",))
    site = make_site("S1")
    code = make_code(wave, site, make_class(site))
    page = client.get("/start").get_data(as_text=True)
    assert _offered(page) == {"en", "pl"}  # the pupil survey has English and Polish
    urdu = client.get("/start?lang=ur").get_data(as_text=True)
    assert '<html lang="en"' in urdu  # not offered, so not taken
    rid = start(client, code.code)
    intro = client.get(f"/s/{rid}/intro").get_data(as_text=True)
    assert "not available" not in intro


def test_a_language_the_questionnaire_lacks_is_said_not_silently_dropped(
    client: Any, make_site: Any, make_class: Any, make_wave: Any, make_code: Any
) -> None:
    wave = make_wave()
    site, area = make_site("S1"), make_site("A1", kind="area", postcodes="E8")
    code = make_code(wave, site, make_class(site))
    make_code(wave, area, kind="token", instrument="resident_baseline")
    page = client.get("/start").get_data(as_text=True)
    assert _offered(page) == {"en", "pl", "tr", "ur"}  # residents' letter codes too
    client.get("/start?lang=ur")
    rid = start(client, code.code)  # a pupil's class code: no Urdu questionnaire
    intro = client.get(f"/s/{rid}/intro").get_data(as_text=True)
    assert "This survey is not available in اردو" in intro
    assert "not available" not in client.get(f"/s/{rid}/intro").get_data(as_text=True)


def test_polish_intro_is_polish_with_the_instruments_time(
    client: Any, make_site: Any, make_class: Any, make_wave: Any, make_code: Any
) -> None:
    wave = make_wave(instruments=("pupil_perception",))
    site = make_site("S1")
    code = make_code(wave, site, make_class(site))
    client.get("/start?lang=pl")
    rid = start(client, code.code)
    intro = client.get(f"/s/{rid}/intro").get_data(as_text=True)
    assert "<h1>Moja szkoła i moja okolica</h1>" in intro
    assert "Co dzieje się z twoimi odpowiedziami" in intro
    assert "What happens to your answers" not in intro
    minutes = load_builtin("pupil_perception").estimated_minutes
    assert f"Zajmie to około {minutes} minut." in intro


def test_estimated_minutes_from_the_settings_sheet_or_the_number_of_questions() -> None:
    rows = "".join(f"| | integer | q{n} | Q{n} |\n" for n in range(41))
    form = "| survey |\n| | type | name | label |\n" + rows + "| settings |\n"
    derived = load_instrument(
        (form + "| | form_id | version |\n| | f | 1 |\n").encode(), file_type=".md"
    )
    assert derived.estimated_minutes == 15  # 41 questions, four a minute, up to 5 minutes
    given = load_instrument(
        (form + "| | form_id | version | estimated_minutes |\n| | f | 1 | 25 |\n").encode(),
        file_type=".md",
    )
    assert given.estimated_minutes == 25


def test_validate_warns_about_missing_translations(tmp_path: Path, run_cli: Any) -> None:
    form = tmp_path / "f.md"
    form.write_text(
        "| survey |\n| | type | name | label::English (en) | label::Polski (pl) |\n"
        "| | integer | age | Age | Wiek |\n| | select_one yn | ok | OK? | |\n"
        "| choices |\n| | list_name | name | label::English (en) | label::Polski (pl) |\n"
        "| | yn | yes | Yes | Tak |\n| | yn | no | No | |\n"
        "| settings |\n| | form_id | version | title_pl |\n| | f | 1 | Formularz |\n"
    )
    result = run_cli("instruments", "validate", str(form))
    assert result.exit_code == 0, result.output
    assert "warning: survey row 3: 'ok' has no label in Polski (pl)" in result.output
    assert "warning: survey row 3: choice 'no' of 'ok' has no label in Polski (pl)" in result.output
    assert "'age'" not in result.output and "title_" not in result.output


def test_every_offered_language_has_every_interface_text() -> None:
    for lang in ("pl", "tr", "ur"):
        path = TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po"
        with path.open("rb") as handle:
            catalog = read_po(handle, locale=lang)
        empty = [
            m.id
            for m in catalog
            if m.id
            and (m.fuzzy or not all(m.string if isinstance(m.string, tuple) else [m.string]))
        ]
        assert empty == [], f"{lang}: untranslated or fuzzy: {empty[:5]}"
