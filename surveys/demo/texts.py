"""Open-text answers for the demo, composed from phrase banks.

Peer-interview answers mention the things residents of Children's Communities talk about
(parks, buses, youth clubs, the cost of living, safety at night, the library, GP waiting
times, housing...), in a spoken register. A few contain personal details (a phone
number, an email address, a first name) on purpose, so PII screening has something to
catch: every such string is fictional (Ofcom's drama number range, example.org).
"""

from __future__ import annotations

import numpy as np

from surveys.demo.answers import TextSource

__all__ = ["PII_SNIPPETS", "interview_texts", "pupil_texts"]

_PUPIL = (
    "more parks",
    "A youth club that is free",
    "less litter and more bins",
    "make it safer at night, more street lights",
    "cheaper buses for kids",
    "a skate park",
    "stop people smoking and vaping in the park",
    "fix the swings in the park",
    "more places to play football",
    "more police around",
    "a bigger library with computers",
    "less traffic near school",
    "more clubs after school that dont cost money",
    "cleaner streets",
    "a swimming pool nearer",
    "somewhere to go with my friends when its raining",
    "stop the big kids being mean in the park",
    "more trees and flowers",
    "make the underpass safer",
    "I like it how it is",
    "free food in the holidays",
    "more events like the summer fair",
    "dont know",
    "bike lanes so we can cycle to school",
    "less dog poo",
    "a trampoline park",
    "more things for girls to do",
    "fix the lifts in the flats",
)

_PUPIL_PII = (
    "my name is Aisha and i want a bigger park",
    "more clubs, ask my mum on 07700 900418",
)

_GOOD = (
    "The park by the canal is lovely in summer, the kids are always out there.",
    "There's the library, they do a free homework club after school and Lego on Saturdays.",
    "Everyone knows each other on our road, you can let the kids play out.",
    "The schools are good round here, the primary really cares about the kids.",
    "The youth club on a Friday night, my son goes every week.",
    "It's close to everything, you can walk to the shops and the doctors.",
    "There's a lot going on in the holidays now, the holiday club with free lunch helped us.",
    "The adventure playground, when it's open, is brilliant.",
    "It's a mixed community, the kids grow up with all sorts of people.",
    "The family hub is good, they helped me when my youngest was born.",
    "Honestly not much for the older ones. The little ones have the play area.",
    "The football sessions in the cage on Saturdays, free and the coaches are great.",
)

_HARD = (
    "Everything costs so much now, the cost of living is killing us, clubs are too dear.",
    "The buses are terrible, the 38 never comes and it's too expensive for teenagers.",
    "I don't let them out after dark, there's gangs hanging about by the shops.",
    "Our flat is too small, three kids in one bedroom and there's damp.",
    "You can't get a GP appointment, you ring at 8 and they're all gone.",
    "There's nothing for teenagers to do so they end up on the streets.",
    "The traffic on the main road, it's dangerous crossing to school.",
    "Drugs. You see it openly in the park in the evening.",
    "Waiting lists for everything, we've waited two years for an assessment for my son.",
    "Rent keeps going up, people are getting moved out of the area.",
    "Litter and fly-tipping, the estate looks neglected.",
    "Childcare is too expensive so I can't go back to work.",
)

_GO = (
    "The big park, because it's free and there's space to run around.",
    "The library, it's warm and the staff are friendly.",
    "The leisure centre for swimming, when we can afford it.",
    "The community centre, they do stay and play on Tuesdays.",
    "The market on a Saturday, there's always something going on.",
    "The city farm, the kids love the animals.",
    "The shopping centre, the teenagers hang out there because there's nowhere else.",
    "The canal path for bike rides.",
    "The mosque runs activities for the kids after school.",
    "The church hall has a toddler group.",
)

_AVOID = (
    "The underpass by the station, it's dark and people get robbed.",
    "The park after dark, there's people drinking and dealing.",
    "The alley behind the shops, you just don't go there.",
    "The bus stop by the chicken shop, fights kick off there.",
    "The estate on the other side of the main road, there's been stabbings.",
    "Nowhere really, it's fine in the day.",
    "The canal path at night, no lights.",
    "The car park behind the flats, there's needles.",
)

_TURN = (
    "The school, the family support worker is amazing.",
    "Their GP or the health visitor, if they can get through.",
    "Family and friends mostly, people don't trust the council.",
    "The family hub or the children's centre.",
    "The Citizens Advice, but the queue is massive.",
    "The mosque or the church, people go there first.",
    "Honestly I wouldn't know who to turn to.",
    "The food bank people, they know everyone and point you to help.",
    "Other mums at the school gate, that's how you find out about things.",
)

_SERVICES = (
    "The school has been brilliant with my daughter's anxiety.",
    "We waited months for CAMHS and in the end they said she wasn't ill enough.",
    "The GP waiting times are ridiculous, three weeks for an appointment.",
    "The youth service got cut, the club my son went to closed.",
    "The health visitor was really helpful with breastfeeding.",
    "SEND support is a battle, you have to fight for everything.",
    "The library staff helped me fill in my universal credit forms.",
    "The housing office never gets back to you about repairs.",
    "The holiday activities programme was great, free and with food.",
    "The dentist has no NHS places, we have to go across town.",
)

_CHANGE = (
    "A proper youth club open every night.",
    "Cheaper or free buses for young people.",
    "More police on foot, not just driving past.",
    "Fix the playground and put in lights.",
    "Affordable after-school clubs.",
    "More GP appointments.",
    "Better housing, get the damp sorted.",
    "Somewhere safe for teenagers to go in the evenings.",
    "Cleaner streets and more bins.",
    "A community cafe where families can meet.",
    "Speed bumps on the main road.",
    "Help with the cost of uniforms and school trips.",
)

_OPENERS = ("", "", "", "Hmm. ", "Good question. ", "To be honest, ", "I'd say ", "For me, ")
_CLOSERS = (
    "",
    "",
    "",
    " That's the main thing.",
    " It's been like that for years.",
    " Everyone says the same.",
    " It's got worse since Covid.",
    " My kids would say the same.",
)

#: Fictional personal details that some answers contain (for PII screening to catch).
PII_SNIPPETS = (
    " You can ring me on 07700 900123 if you want to know more.",
    " Email me at jade.parker@example.org, I'd like to help.",
    " My neighbour Sharon does the school run for three families.",
    " Ask for Tariq at the youth club, he's the one who gets things done.",
)

_BANKS: dict[str, tuple[str, ...]] = {
    "good_for_children": _GOOD,
    "makes_it_hard": _HARD,
    "places_go": _GO,
    "places_avoid": _AVOID,
    "who_turn_to": _TURN,
    "services_experience": _SERVICES,
    "one_change": _CHANGE,
}


def _compose(rng: np.random.Generator, bank: tuple[str, ...]) -> str:
    count = 1 + int(rng.random() < 0.45)
    picks = rng.choice(len(bank), size=count, replace=False)
    text = " ".join(bank[int(i)] for i in picks)
    opener = _OPENERS[int(rng.integers(len(_OPENERS)))]
    if opener:
        text = opener + text[0].lower() + text[1:]
    return text + _CLOSERS[int(rng.integers(len(_CLOSERS)))]


def interview_texts(pii_rows: dict[int, int]) -> dict[str, TextSource]:
    """Text sources for the peer interview's open questions.

    ``pii_rows`` maps a respondent's position in the batch to the index of a PII snippet
    appended to one of their answers (the ``makes_it_hard`` or ``services_experience``).
    """

    def source(name: str, bank: tuple[str, ...]) -> TextSource:
        def make(rng: np.random.Generator, n: int) -> list[str | None]:
            texts: list[str | None] = []
            for i in range(n):
                target = "makes_it_hard" if pii_rows.get(i, 0) % 2 == 0 else "services_experience"
                with_pii = i in pii_rows and name == target
                if rng.random() < 0.06 and not with_pii:  # "no comment"
                    texts.append(None)
                    continue
                text = _compose(rng, bank)
                if with_pii:
                    text += PII_SNIPPETS[pii_rows[i] % len(PII_SNIPPETS)]
                texts.append(text)
            return texts

        return make

    return {name: source(name, bank) for name, bank in _BANKS.items()}


def pupil_texts(*, rate: float = 0.35, pii_rows: dict[int, int] | None = None) -> TextSource:
    """Short pupil answers to "what would make your area better"; ``rate`` answer it.

    ``pii_rows`` maps a respondent's position in the batch to the pupil PII answer they give.
    """
    pii = pii_rows or {}

    def make(rng: np.random.Generator, n: int) -> list[str | None]:
        texts: list[str | None] = []
        for i in range(n):
            if i in pii:
                texts.append(_PUPIL_PII[pii[i] % len(_PUPIL_PII)])
            elif rng.random() < rate:
                texts.append(_PUPIL[int(rng.integers(len(_PUPIL)))])
            else:
                texts.append(None)
        return texts

    return make
