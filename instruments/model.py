"""Typed, immutable instruments: what an XLSForm says, ready for forms and analysis.

An :class:`Instrument` is built by :func:`instruments.loader.load_instrument`; nothing
here reads files. Labels are keyed by language code (``en``, ``pl``, ``ur`` ...), taken
from the ``label::Name (code)`` column headers; a form without translations has the single
language :data:`DEFAULT_LANGUAGE`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "ANSWERABLE_TYPES",
    "DEFAULT_LANGUAGE",
    "RTL_LANGUAGES",
    "Choice",
    "Group",
    "Instrument",
    "Item",
    "ItemType",
    "Page",
]

DEFAULT_LANGUAGE = "en"

#: Languages written right to left (the page sets ``dir="rtl"`` for them).
RTL_LANGUAGES = frozenset({"ar", "fa", "he", "ku", "ps", "sd", "ug", "ur", "yi"})

ItemType = Literal[
    "select_one",
    "select_multiple",
    "integer",
    "decimal",
    "text",
    "date",
    "note",
    "range",
    "calculate",
]

#: Item types that a respondent answers (notes and calculations are not answered).
ANSWERABLE_TYPES: frozenset[str] = frozenset(
    {"select_one", "select_multiple", "integer", "decimal", "text", "date", "range"}
)


@dataclass(frozen=True)
class Choice:
    """One answer option of a select question."""

    name: str
    labels: Mapping[str, str] = field(default_factory=dict)
    #: Numeric value used for scale scores (the ``score`` column); None when not scored.
    score: float | None = None
    #: True for an option that counts as no answer ("prefer not to say", "don't know").
    missing: bool = False
    #: Other columns of the choices sheet (used by ``choice_filter`` expressions).
    attributes: Mapping[str, str] = field(default_factory=dict)

    def label(self, language: str, fallback: str = DEFAULT_LANGUAGE) -> str:
        """The option text in ``language``, else the fallback language, else the name."""
        return self.labels.get(language) or self.labels.get(fallback) or self.name


@dataclass(frozen=True)
class Item:
    """One row of the survey sheet that is a question, note or calculation."""

    name: str
    type: ItemType
    #: Row number on the survey sheet, as the spreadsheet shows it.
    row: int
    labels: Mapping[str, str] = field(default_factory=dict)
    hints: Mapping[str, str] = field(default_factory=dict)
    choices: tuple[Choice, ...] = ()
    list_name: str = ""
    #: select_multiple/select_one "or_other": an "other" choice with a text follow-up.
    or_other: bool = False
    required: bool = False
    required_messages: Mapping[str, str] = field(default_factory=dict)
    relevant: str = ""
    constraint: str = ""
    constraint_messages: Mapping[str, str] = field(default_factory=dict)
    calculation: str = ""
    choice_filter: str = ""
    appearance: str = ""
    default: str = ""
    #: Names of the enclosing groups, outermost first.
    groups: tuple[str, ...] = ()
    #: range parameters.
    range_start: float = 1.0
    range_end: float = 10.0
    range_step: float = 1.0
    # --- analysis metadata (extra XLSForm columns) ---
    domain: str = ""
    scale: str = ""
    #: Choice names counted as the positive answer.
    positive: frozenset[str] = frozenset()
    reverse: bool = False
    #: False when the item must never be reported (e.g. open text, breakdown variables).
    report: bool = True
    #: Where the wording comes from (licence/attribution).
    source: str = ""

    @property
    def answerable(self) -> bool:
        """Whether a respondent gives this item an answer."""
        return self.type in ANSWERABLE_TYPES

    def label(self, language: str, fallback: str = DEFAULT_LANGUAGE) -> str:
        """The question text in ``language``, else the fallback language, else the name."""
        return self.labels.get(language) or self.labels.get(fallback) or self.name

    def hint(self, language: str, fallback: str = DEFAULT_LANGUAGE) -> str:
        """The hint text in ``language``, else the fallback language, else empty."""
        return self.hints.get(language) or self.hints.get(fallback) or ""

    def choice(self, name: str) -> Choice | None:
        """The choice called ``name``, or None."""
        for choice in self.choices:
            if choice.name == name:
                return choice
        return None

    @property
    def choice_names(self) -> tuple[str, ...]:
        """Choice names in the order the form lists them."""
        return tuple(c.name for c in self.choices)

    @property
    def missing_choices(self) -> frozenset[str]:
        """Choice names that count as no answer."""
        return frozenset(c.name for c in self.choices if c.missing)


@dataclass(frozen=True)
class Group:
    """A begin group ... end group block."""

    name: str
    row: int
    labels: Mapping[str, str] = field(default_factory=dict)
    relevant: str = ""
    appearance: str = ""
    #: Enclosing group names, outermost first.
    parents: tuple[str, ...] = ()

    def label(self, language: str, fallback: str = DEFAULT_LANGUAGE) -> str:
        """The group heading in ``language``, else the fallback language, else empty."""
        return self.labels.get(language) or self.labels.get(fallback) or ""


@dataclass(frozen=True)
class Page:
    """What one screen shows: a single question, or a short group of related statements."""

    #: Stable identifier used in URLs: the group name, or the item name.
    key: str
    items: tuple[str, ...]
    #: The group shown as this page's heading, when the page is a group.
    group: str = ""


@dataclass(frozen=True)
class Instrument:
    """A versioned questionnaire read from an XLSForm."""

    id: str
    version: str
    titles: Mapping[str, str]
    default_language: str
    #: Language code -> the name the form gives it ("Polski").
    languages: Mapping[str, str]
    items: tuple[Item, ...]
    groups: tuple[Group, ...] = ()
    #: Language codes whose text is marked as a draft awaiting review.
    draft_languages: frozenset[str] = frozenset()
    #: The XLSForm file as given, and its format (".md", ".xlsx", ".xls", ".csv").
    source_bytes: bytes = b""
    source_format: str = ".md"
    warnings: tuple[str, ...] = ()
    #: The settings sheet's ``estimated_minutes``: how long the form takes, if the form says.
    minutes: int | None = None

    @property
    def estimated_minutes(self) -> int:
        """How long the form takes: ``estimated_minutes`` from the settings sheet, else
        derived from the number of questions (four a minute, rounded up to 5 minutes).
        """
        if self.minutes:
            return self.minutes
        questions = len(self.answerable_items)
        return max(5, -(-questions // 20) * 5)

    def title(self, language: str) -> str:
        """The form title in ``language``."""
        return (
            self.titles.get(language)
            or self.titles.get(self.default_language)
            or self.id.replace("_", " ").capitalize()
        )

    def item(self, name: str) -> Item:
        """The item called ``name``; KeyError if there is none."""
        try:
            return self._item_index[name]
        except KeyError:
            raise KeyError(f"instrument {self.id} has no item '{name}'") from None

    def group(self, name: str) -> Group:
        """The group called ``name``; KeyError if there is none."""
        for group in self.groups:
            if group.name == name:
                return group
        raise KeyError(f"instrument {self.id} has no group '{name}'")

    @property
    def _item_index(self) -> dict[str, Item]:
        cached: dict[str, Item] | None = self.__dict__.get("_index")
        if cached is None:
            cached = {item.name: item for item in self.items}
            object.__setattr__(self, "_index", cached)
        return cached

    def has_item(self, name: str) -> bool:
        """Whether ``name`` is an item of this instrument."""
        return name in self._item_index

    @property
    def answerable_items(self) -> tuple[Item, ...]:
        """Items a respondent answers, in form order."""
        return tuple(item for item in self.items if item.answerable)

    @property
    def is_rtl(self) -> bool:
        """Whether the default language is written right to left."""
        return self.default_language in RTL_LANGUAGES

    def pages(self) -> tuple[Page, ...]:
        """Split the form into screens.

        A question outside any group is a page of its own. The innermost group around a
        run of questions is one page when it has ``appearance`` field-list or holds at most
        :data:`MAX_GROUP_PAGE` answerable questions; otherwise each of its questions is a
        page. Notes join the page of the question that follows them; calculations are on
        no page.
        """
        cached: tuple[Page, ...] | None = self.__dict__.get("_pages")
        if cached is not None:
            return cached
        group_sizes: dict[str, int] = {}
        for item in self.items:
            if item.groups and item.answerable:
                group_sizes[item.groups[-1]] = group_sizes.get(item.groups[-1], 0) + 1
        groups = {g.name: g for g in self.groups}
        pages: list[Page] = []
        pending_notes: list[str] = []
        for item in self.items:
            if item.type == "calculate":
                continue
            inner = item.groups[-1] if item.groups else ""
            as_group = bool(inner) and (
                "field-list" in groups[inner].appearance
                or group_sizes.get(inner, 0) <= MAX_GROUP_PAGE
            )
            if as_group:
                if pages and pages[-1].group == inner:
                    last = pages[-1]
                    pages[-1] = Page(key=last.key, items=(*last.items, item.name), group=inner)
                else:
                    pages.append(Page(key=inner, items=(*pending_notes, item.name), group=inner))
                    pending_notes = []
                continue
            if item.type == "note":
                pending_notes.append(item.name)
                continue
            pages.append(Page(key=item.name, items=(*pending_notes, item.name)))
            pending_notes = []
        if pending_notes:
            pages.append(Page(key=pending_notes[0], items=tuple(pending_notes)))
        result = tuple(pages)
        object.__setattr__(self, "_pages", result)
        return result

    def page(self, key: str) -> Page:
        """The page with ``key``; KeyError if there is none."""
        for page in self.pages():
            if page.key == key:
                return page
        raise KeyError(f"instrument {self.id} has no page '{key}'")


#: Largest plain group shown on one page (a field-list group is always one page).
MAX_GROUP_PAGE = 6
