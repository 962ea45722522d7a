"""The OpenAPI 3.0 description of ``/api`` (served at ``/api/openapi.json``)."""

from __future__ import annotations

from typing import Any

from analysis.spec import AREA_COLUMNS

__all__ = ["openapi_document"]

_NUMBER = {"type": "number", "nullable": True}
_INTEGER = {"type": "integer", "nullable": True}
_TEXT = {"type": "string", "nullable": True}

#: Schema of each summary column (suppressed rows have null in every value column).
_COLUMN_SCHEMAS: dict[str, dict[str, Any]] = {
    "wave": {"type": "string"},
    "site": {"type": "string"},
    "site_name": {"type": "string"},
    "level": {"type": "string", "enum": ["school", "area"]},
    "item": {"type": "string"},
    "domain": _TEXT,
    "n": _INTEGER,
    "n_missing": _INTEGER,
    "n_positive": _INTEGER,
    "pct_positive": _NUMBER,
    "ci_low": _NUMBER,
    "ci_high": _NUMBER,
    "benchmark_n": _INTEGER,
    "benchmark_pct": _NUMBER,
    "diff": _NUMBER,
    "p_value": _NUMBER,
    "p_adjusted": _NUMBER,
    "flag": {"type": "string", "nullable": True, "enum": ["higher", "lower", "similar", None]},
    "suppressed": {"type": "boolean"},
    "weighted_pct": _NUMBER,
    "design_effect": _NUMBER,
    "n_effective": _NUMBER,
}

_ERROR = {
    "type": "object",
    "required": ["error", "status"],
    "properties": {"error": {"type": "string"}, "status": {"type": "integer"}},
}


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def openapi_document(cookie_name: str = "placevoice") -> dict[str, Any]:
    """The API description as a JSON-ready dict."""
    summary_row = {
        "type": "object",
        "description": (
            "One site x item row (site 'ALL' is the whole wave). Area rows add"
            " weighted_pct, design_effect and n_effective."
        ),
        "required": [
            c for c in AREA_COLUMNS if c not in ("weighted_pct", "design_effect", "n_effective")
        ],
        "properties": {c: _COLUMN_SCHEMAS[c] for c in AREA_COLUMNS},
        "additionalProperties": False,
    }
    unauthorised = _error("Not signed in: sign in at /login and send the session cookie.")
    forbidden = _error("The signed-in role does not give access to results.")
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "placevoice API",
            "version": "1",
            "description": (
                "Results for signed-in staff. Authentication is the session cookie set by"
                " signing in at /login. Admins see every site; school staff see only their"
                " own schools' rows and the whole-wave rows. Cells based on fewer than the"
                " community's threshold k of respondents are suppressed: the row keeps its"
                " identifying columns, has suppressed = true and null values."
            ),
        },
        "servers": [{"url": "/"}],
        "security": [{"sessionCookie": []}],
        "paths": {
            "/api/openapi.json": {
                "get": {
                    "operationId": "getOpenapi",
                    "summary": "This description.",
                    "security": [],
                    "responses": {
                        "200": {
                            "description": "The OpenAPI document.",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        }
                    },
                }
            },
            "/api/waves": {
                "get": {
                    "operationId": "listWaves",
                    "summary": "The community's waves, newest first.",
                    "responses": {
                        "200": {
                            "description": "The waves.",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/WaveList"}
                                }
                            },
                        },
                        "401": unauthorised,
                        "403": forbidden,
                    },
                }
            },
            "/api/waves/{wave}/summary": {
                "get": {
                    "operationId": "getWaveSummary",
                    "summary": "A wave's per site x item summary (the summary CSV as JSON).",
                    "parameters": [
                        {
                            "name": "wave",
                            "in": "path",
                            "required": True,
                            "description": "The wave's name, e.g. 'Spring 2027'.",
                            "schema": {"type": "string", "minLength": 1},
                        },
                        {
                            "name": "level",
                            "in": "query",
                            "required": False,
                            "description": "school (pupils by school) or area (residents).",
                            "schema": {
                                "type": "string",
                                "enum": ["school", "area"],
                                "default": "school",
                            },
                        },
                        {
                            "name": "instrument",
                            "in": "query",
                            "required": False,
                            "description": (
                                "Instrument id; default pupil_perception for schools,"
                                " resident_baseline for areas."
                            ),
                            "schema": {"type": "string"},
                        },
                    ],
                    "responses": {
                        "200": {
                            "description": "The summary rows.",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/WaveSummary"}
                                }
                            },
                        },
                        "400": _error("The level is not school or area."),
                        "401": unauthorised,
                        "403": forbidden,
                        "404": _error("No such wave or instrument."),
                        "422": _error("The instrument's analysis settings cannot be used."),
                    },
                }
            },
        },
        "components": {
            "securitySchemes": {
                "sessionCookie": {"type": "apiKey", "in": "cookie", "name": cookie_name}
            },
            "schemas": {
                "Error": _ERROR,
                "WaveList": {
                    "type": "object",
                    "required": ["waves"],
                    "properties": {
                        "waves": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "required": ["name", "status", "previous"],
                                "properties": {
                                    "name": {"type": "string"},
                                    "status": {
                                        "type": "string",
                                        "enum": ["draft", "open", "closed"],
                                    },
                                    "previous": {"type": "string", "nullable": True},
                                },
                            },
                        }
                    },
                },
                "SummaryRow": summary_row,
                "WaveSummary": {
                    "type": "object",
                    "required": [
                        "wave",
                        "level",
                        "instrument",
                        "k",
                        "weighted",
                        "notes",
                        "columns",
                        "rows",
                    ],
                    "properties": {
                        "wave": {"type": "string"},
                        "level": {"type": "string", "enum": ["school", "area"]},
                        "instrument": {"type": "string"},
                        "k": {"type": "integer", "minimum": 5},
                        "weighted": {"type": "boolean"},
                        "notes": {"type": "array", "items": {"type": "string"}},
                        "columns": {"type": "array", "items": {"type": "string"}},
                        "rows": {
                            "type": "array",
                            "items": {"$ref": "#/components/schemas/SummaryRow"},
                        },
                    },
                },
            },
        },
    }
