"""The demo's coded open answers: a codebook, and the coder's themes for the pupils' answers.

In a real community the core team writes a codebook and a coder tags each pupil's answer
to "what would make your area better for children?" (``/coding``). The demo does what that
coder would have done for the current wave, from a fixed table of the demo's own answer
texts, so the school packs and results pages show "What pupils said" with real counts
(a theme appears only where at least k pupils of a school mentioned it). Answers that
name no theme ("I like it how it is", "dont know") are coded with none, so they still
count as answered.
"""

from __future__ import annotations

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from surveys.models import Community, Response, User, Wave
from surveys.models.field import CodedUnit, Coding, Theme

__all__ = ["PUPIL_CODES", "PUPIL_ITEM", "THEMES", "code_pupil_answers"]

#: The open question coded.
PUPIL_ITEM = "area_better"

#: The codebook: name -> (description, example).
THEMES: dict[str, tuple[str, str]] = {
    "Places to play and be": (
        "Parks, play areas, pitches, pools and somewhere to go with friends.",
        "more places to play football",
    ),
    "Clubs and things to do": (
        "Youth clubs, after-school clubs, events and activities.",
        "A youth club that is free",
    ),
    "Feeling safe": (
        "Safety at night and in parks, lighting, police, older children, underpasses.",
        "make the underpass safer",
    ),
    "Clean and green": ("Litter, bins, dog mess, trees and flowers.", "less litter and more bins"),
    "Getting around": (
        "Buses, cycling, traffic near school, lifts in the flats.",
        "cheaper buses for kids",
    ),
    "Costs for families": (
        "Things being free or cheaper, food in the holidays.",
        "free food in the holidays",
    ),
}

_PLAY, _CLUBS, _SAFE, _CLEAN, _MOVE, _COST = THEMES

#: Every demo pupil answer (surveys/demo/texts.py) and the themes a coder gave it.
PUPIL_CODES: dict[str, tuple[str, ...]] = {
    "more parks": (_PLAY,),
    "A youth club that is free": (_CLUBS, _COST),
    "less litter and more bins": (_CLEAN,),
    "make it safer at night, more street lights": (_SAFE,),
    "cheaper buses for kids": (_MOVE, _COST),
    "a skate park": (_PLAY,),
    "stop people smoking and vaping in the park": (_SAFE,),
    "fix the swings in the park": (_PLAY,),
    "more places to play football": (_PLAY,),
    "more police around": (_SAFE,),
    "a bigger library with computers": (_PLAY,),
    "less traffic near school": (_MOVE, _SAFE),
    "more clubs after school that dont cost money": (_CLUBS, _COST),
    "cleaner streets": (_CLEAN,),
    "a swimming pool nearer": (_PLAY,),
    "somewhere to go with my friends when its raining": (_PLAY,),
    "stop the big kids being mean in the park": (_SAFE,),
    "more trees and flowers": (_CLEAN,),
    "make the underpass safer": (_SAFE,),
    "I like it how it is": (),
    "free food in the holidays": (_COST,),
    "more events like the summer fair": (_CLUBS,),
    "dont know": (),
    "bike lanes so we can cycle to school": (_MOVE,),
    "less dog poo": (_CLEAN,),
    "a trampoline park": (_PLAY,),
    "more things for girls to do": (_CLUBS,),
    "fix the lifts in the flats": (_MOVE,),
    "my name is Aisha and i want a bigger park": (_PLAY,),
    "more clubs, ask my mum on 07700 900418": (_CLUBS,),
}


def code_pupil_answers(
    session: Session, *, community: Community, wave: Wave, admin: User, coder: User
) -> int:
    """Write the codebook and code every submitted pupil answer of ``wave``; the count."""
    themes = {
        name: Theme(
            community_id=community.id,
            name=name,
            description=description,
            example=example,
            created_by=admin.id,
        )
        for name, (description, example) in THEMES.items()
    }
    session.add_all(themes.values())
    session.flush()
    answered = session.execute(
        select(Response.id, Response.answers).where(
            Response.wave_id == wave.id,
            Response.channel == "class",
            Response.status == "submitted",
        )
    ).all()
    units: list[dict[str, object]] = []
    codings: list[dict[str, object]] = []
    for response_id, answers in answered:
        text = (answers or {}).get(PUPIL_ITEM)
        if not text:
            continue
        units.append({"coder_id": coder.id, "response_id": response_id, "item": PUPIL_ITEM})
        codings.extend(
            {
                "coder_id": coder.id,
                "response_id": response_id,
                "item": PUPIL_ITEM,
                "theme_id": themes[name].id,
            }
            for name in PUPIL_CODES[str(text)]
        )
    if units:
        session.execute(insert(CodedUnit), units)
    if codings:
        session.execute(insert(Coding), codings)
    return len(units)
