"""Reading an ODK Collect / KoboCollect instance document (no Flask, no database).

Parsing is done with defusedxml: a DTD, entity declarations or external references are
refused, so entity-expansion bombs ("billion laughs") and external entity reads cannot
happen. Groups are flattened to item names; ``meta`` gives the instance id.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

__all__ = ["BadInstance", "Instance", "parse_instance"]

#: Deepest nesting of groups accepted (the built-in forms use three levels).
MAX_DEPTH = 32


class BadInstance(ValueError):
    """The submission is not a readable instance document; the message says why."""


@dataclass(frozen=True)
class Instance:
    """What a submission says: form id and version, instance id and answers by item name."""

    form_id: str
    version: str
    instance_id: str
    answers: dict[str, str] = field(default_factory=dict)
    deprecated_id: str = ""


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def parse_instance(data: bytes) -> Instance:
    """Parse ``data`` (the ``xml_submission_file`` part) into an :class:`Instance`."""
    try:
        root = fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as err:
        raise BadInstance(f"the XML is refused: {type(err).__name__}") from None
    except ET.ParseError as err:
        raise BadInstance(f"the XML cannot be read: {err}") from None
    form_id = root.get("id", "").strip()
    if not form_id:
        raise BadInstance("the instance has no form id (the 'id' attribute of its root)")
    answers: dict[str, str] = {}
    meta: dict[str, str] = {}

    def walk(element: ET.Element, depth: int) -> None:
        if depth > MAX_DEPTH:
            raise BadInstance("the instance is nested too deeply")
        for child in element:
            name = _local(child.tag)
            if name == "meta" and depth == 0:
                for entry in child:
                    meta[_local(entry.tag)] = (entry.text or "").strip()
                continue
            if len(child):
                walk(child, depth + 1)
                continue
            value = (child.text or "").strip()
            if name in answers:
                raise BadInstance(f"'{name}' appears more than once (repeats are not supported)")
            answers[name] = value

    walk(root, 0)
    instance_id = meta.get("instanceID", "")
    if not instance_id:
        raise BadInstance("the instance has no meta/instanceID")
    return Instance(
        form_id=form_id,
        version=root.get("version", "").strip(),
        instance_id=instance_id.removeprefix("uuid:"),
        answers={k: v for k, v in answers.items() if v != ""},
        deprecated_id=meta.get("deprecatedID", "").removeprefix("uuid:"),
    )
