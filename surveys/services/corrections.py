"""Correcting mistakes: delete a test submission, move a response, edit or retire objects.

Every function takes the acting user and the community the change is made in; an object
of another community is :class:`~surveys.errors.NotFound`, exactly as one that does not
exist. Every change writes one audit entry. Nothing is deleted except by
:func:`delete_response`, which needs a reason (kept in the audit log).

Retiring a site, class or wave sets its ``retired_at``: it leaves the pickers (issuing
codes, the wave to compare with) and its codes stop working for new respondents, but its
responses stay where they are and count in analysis, packs and exports as before.
:func:`restore` undoes a retirement.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys.errors import NotFound, RowErrors, ServiceError, ServiceMessage
from surveys.models import Response, SchoolClass, Site, Wave, utcnow
from surveys.services.audit import audit
from surveys.services.drafts import set_teacher_pin
from surveys.services.erasure import delete_responses

__all__ = [
    "CorrectionError",
    "PinRow",
    "Retirable",
    "community_class",
    "community_response",
    "community_site",
    "delete_response",
    "edit_class",
    "edit_site",
    "move_response",
    "rename_wave",
    "restore",
    "retire",
    "set_pins",
]

Retirable = Site | SchoolClass | Wave
_KIND = {Site: "site", SchoolClass: "class", Wave: "wave"}


class CorrectionError(ServiceError):
    """A correction that cannot be made as asked."""


def _refuse(text: str) -> CorrectionError:
    return CorrectionError(ServiceMessage.CORRECTION, detail=text)


def community_response(session: Session, community_id: int, response_id: str) -> Response:
    """The response with that id in the community (NotFound otherwise)."""
    response = session.get(Response, response_id.strip().lower())
    if response is None or response.wave.community_id != community_id:
        raise NotFound(ServiceMessage.NO_RESPONSE, id=response_id)
    return response


def community_site(session: Session, community_id: int, code: str) -> Site:
    """The community's site with that site id (NotFound otherwise)."""
    site = session.scalar(select(Site).where(Site.community_id == community_id, Site.code == code))
    if site is None:
        raise NotFound(ServiceMessage.NO_SITE, site=code)
    return site


def community_class(session: Session, community_id: int, site_code: str, name: str) -> SchoolClass:
    """The class called ``name`` of the community's school ``site_code``."""
    site = community_site(session, community_id, site_code)
    cls = session.scalar(
        select(SchoolClass).where(SchoolClass.site_id == site.id, SchoolClass.name == name)
    )
    if cls is None:
        raise NotFound(ServiceMessage.NO_CLASS, site=site_code, name=name)
    return cls


def _community_of(obj: Retirable) -> int:
    if isinstance(obj, SchoolClass):
        return obj.site.community_id
    return obj.community_id


def _check(obj: Retirable, community_id: int) -> None:
    if _community_of(obj) != community_id:
        raise NotFound(ServiceMessage.NO_SITE, site=str(getattr(obj, "id", "")))


def delete_response(
    session: Session, *, actor: object, community_id: int, response: Response, reason: str
) -> None:
    """Delete a response (e.g. a teacher's test run) and what hangs off it, with a reason."""
    if response.wave.community_id != community_id:
        raise NotFound(ServiceMessage.NO_RESPONSE, id=response.id)
    reason = " ".join(reason.split())
    if not reason:
        raise _refuse("give a reason for deleting the response (it is kept in the audit log)")
    detail = {
        "reason": reason[:200],
        "wave": response.wave.name,
        "site": response.site.code if response.site else "",
        "status": response.status,
        "channel": response.channel,
    }
    rid = response.id
    session.expunge(response)
    delete_responses(session, [rid])
    audit(session, actor, "response_delete", "response", rid, **detail)


def move_response(
    session: Session,
    *,
    actor: object,
    community_id: int,
    response: Response,
    to: SchoolClass,
) -> tuple[str, str]:
    """Move a response to another class (and that class's school); returns (from, to)."""
    if response.wave.community_id != community_id:
        raise NotFound(ServiceMessage.NO_RESPONSE, id=response.id)
    _check(to, community_id)
    if response.site is not None and response.site.kind != "school":
        raise _refuse("only a pupil's response belongs to a class; this one is from an area")
    before = (
        f"{response.site.code} {response.school_class.name}"
        if response.site is not None and response.school_class is not None
        else (response.site.code if response.site is not None else "no class")
    )
    after = f"{to.site.code} {to.name}"
    if response.class_id == to.id:
        raise _refuse(f"the response is already in {after}")
    response.school_class = to
    response.site = to.site
    audit(session, actor, "response_move", "response", response.id, to=after, **{"from": before})
    return before, after


def retire(session: Session, *, actor: object, community_id: int, obj: Retirable) -> None:
    """Retire a site, class or wave: out of pickers and code entry; its data stays."""
    _check(obj, community_id)
    if obj.retired_at is not None:
        return
    obj.retired_at = utcnow()
    kind = _KIND[type(obj)]
    audit(session, actor, f"{kind}_retire", kind, obj.id, name=obj.name)


def restore(session: Session, *, actor: object, community_id: int, obj: Retirable) -> None:
    """Bring a retired site, class or wave back."""
    _check(obj, community_id)
    if obj.retired_at is None:
        return
    obj.retired_at = None
    kind = _KIND[type(obj)]
    audit(session, actor, f"{kind}_restore", kind, obj.id, name=obj.name)


def _changes(obj: Any, **values: Any) -> dict[str, str]:
    changed: dict[str, str] = {}
    for name, value in values.items():
        if value is None or getattr(obj, name) == value:
            continue
        changed[name] = f"{getattr(obj, name)} -> {value}"
        setattr(obj, name, value)
    return changed


def edit_site(
    session: Session,
    *,
    actor: object,
    community_id: int,
    site: Site,
    name: str | None = None,
    population: int | None = None,
    postcodes: str | None = None,
) -> dict[str, str]:
    """Change a site's name, population or postcodes; returns what changed."""
    _check(site, community_id)
    if name is not None and not name.strip():
        raise _refuse("a site's name cannot be empty")
    if population is not None and population < 0:
        raise _refuse("the population cannot be negative")
    changed = _changes(
        site,
        name=name.strip()[:200] if name is not None else None,
        population=population,
        postcodes=" ".join(postcodes.upper().split()) if postcodes is not None else None,
    )
    if changed:
        audit(session, actor, "site_edit", "site", site.id, fields=", ".join(sorted(changed)))
    return changed


def edit_class(
    session: Session,
    *,
    actor: object,
    community_id: int,
    school_class: SchoolClass,
    name: str | None = None,
    year_group: int | None = None,
    size: int | None = None,
) -> dict[str, str]:
    """Change a class's name, year group or size; returns what changed."""
    _check(school_class, community_id)
    if name is not None:
        name = name.strip()[:80]
        if not name:
            raise _refuse("a class's name cannot be empty")
        clash = session.scalar(
            select(SchoolClass.id).where(
                SchoolClass.site_id == school_class.site_id,
                SchoolClass.name == name,
                SchoolClass.id != school_class.id,
            )
        )
        if clash:
            raise _refuse(f"{school_class.site.name} already has a class called {name}")
    if year_group is not None and not 1 <= year_group <= 13:
        raise _refuse(f"{year_group} is not a year from 1 to 13")
    if size is not None and size < 0:
        raise _refuse("the class size cannot be negative")
    changed = _changes(school_class, name=name, year_group=year_group, size=size)
    if changed:
        fields = ", ".join(sorted(changed))
        audit(session, actor, "class_edit", "class", school_class.id, fields=fields)
    return changed


def rename_wave(
    session: Session, *, actor: object, community_id: int, wave: Wave, name: str
) -> None:
    """Give a wave a new name (unique in the community)."""
    _check(wave, community_id)
    name = name.strip()[:120]
    if not name:
        raise _refuse("a wave's name cannot be empty")
    if name == wave.name:
        return
    clash = session.scalar(
        select(Wave.id).where(Wave.community_id == community_id, Wave.name == name)
    )
    if clash:
        raise ServiceError(ServiceMessage.WAVE_EXISTS, name=name)
    audit(session, actor, "wave_rename", "wave", wave.id, **{"from": wave.name, "to": name})
    wave.name = name


@dataclass(frozen=True)
class PinRow:
    """One teacher PIN to set: the school's site id, the class name, the PIN."""

    site: str
    name: str
    pin: str


def set_pins(
    session: Session,
    *,
    actor: object,
    community_id: int,
    rows: list[PinRow],
    source: str = "pins.csv",
    first_row: int = 2,
) -> int:
    """Set many teacher PINs at once, all or nothing; every bad row is reported."""
    problems: list[str] = []
    planned: list[tuple[SchoolClass, str]] = []
    for number, row in enumerate(rows, start=first_row):
        try:
            cls = community_class(session, community_id, row.site, row.name)
        except NotFound as err:
            problems.append(f"{source}: row {number}, column class: {err}")
            continue
        pin = row.pin.strip()
        if not (pin.isdigit() and 4 <= len(pin) <= 8):
            problems.append(f"{source}: row {number}, column pin: use 4 to 8 digits")
            continue
        planned.append((cls, pin))
    if problems:
        raise RowErrors(problems)
    for cls, pin in planned:
        set_teacher_pin(cls, pin)
    if planned:
        audit(session, actor, "class_pins", "community", community_id, count=len(planned))
    return len(planned)
