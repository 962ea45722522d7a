"""The placevoice data model (SQLAlchemy 2.0, typed). Models hold data; services act on it.

One module per aggregate, each importing only :mod:`surveys.models.base` and the modules
below it (never this package):

* :mod:`~surveys.models.base` - ``Base``, ``utcnow``, ``new_uuid``
* :mod:`~surveys.models.community` - communities, sites, classes, staff accounts
* :mod:`~surveys.models.waves` - instruments, waves, access codes, responses
* :mod:`~surveys.models.audit` - the append-only audit log and its guard
* :mod:`~surveys.models.field` - peer research and participatory coding
* :mod:`~surveys.models.margins` - population margins for weighting
* :mod:`~surveys.models.packs` - pack runs on the task queue and their packs
* :mod:`~surveys.models.boundaries` - area boundaries for maps
* :mod:`~surveys.models.panel` - identification codes, panel links and linking reports
* :mod:`~surveys.models.organisations` - partner organisations (the partnership network)
* :mod:`~surveys.models.rate_limits` - the rate limiter's events

Importing this package registers every table in ``Base.metadata`` (what Alembic and
``create_all`` see) and switches on the audit log guard; ``from surveys.models import X``
works for every model.
"""

from surveys.models.audit import AuditEntry
from surveys.models.base import NAMING, Base, new_uuid, utcnow
from surveys.models.boundaries import AreaBoundary
from surveys.models.community import ROLES, Community, SchoolClass, Site, User, UserSite
from surveys.models.field import (
    CodedUnit,
    Coding,
    ConsentRecord,
    FieldInterview,
    QuoteApproval,
    Reconciliation,
    ResearcherAssignment,
    ResearchSettings,
    Theme,
)
from surveys.models.margins import ALL_AREAS, PopulationMargin
from surveys.models.organisations import ORGANISATION_KINDS, Organisation
from surveys.models.packs import (
    ACTIVE_STATUSES,
    ITEM_STATUSES,
    RUN_STATUSES,
    PackRun,
    PackRunItem,
)
from surveys.models.panel import LINK_RULES, PanelCode, PanelLink, PanelRun
from surveys.models.rate_limits import RateEvent
from surveys.models.waves import AccessCode, InstrumentVersion, Response, Wave, WaveInstrument

__all__ = [
    "ACTIVE_STATUSES",
    "ALL_AREAS",
    "ITEM_STATUSES",
    "LINK_RULES",
    "NAMING",
    "ORGANISATION_KINDS",
    "ROLES",
    "RUN_STATUSES",
    "AccessCode",
    "AreaBoundary",
    "AuditEntry",
    "Base",
    "CodedUnit",
    "Coding",
    "Community",
    "ConsentRecord",
    "FieldInterview",
    "InstrumentVersion",
    "Organisation",
    "PackRun",
    "PackRunItem",
    "PanelCode",
    "PanelLink",
    "PanelRun",
    "PopulationMargin",
    "QuoteApproval",
    "RateEvent",
    "Reconciliation",
    "ResearchSettings",
    "ResearcherAssignment",
    "Response",
    "SchoolClass",
    "Site",
    "Theme",
    "User",
    "UserSite",
    "Wave",
    "WaveInstrument",
    "new_uuid",
    "utcnow",
]
