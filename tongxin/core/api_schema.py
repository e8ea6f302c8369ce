"""The OpenAPI document's answers every operation shares, documented in one place.

Each endpoint documents its own answers (200, 403, 404, 409 …). Two come from the plumbing
rather than the endpoint, so a drf-spectacular postprocessing hook adds them where they apply:

- 401 on every operation that needs a token (the token request itself needs none);
- 400 on every operation that reads input: a request body (the parser refuses malformed or
  too deeply nested JSON) or query parameters (typed, unknown values refused).
"""

from __future__ import annotations

from typing import Any

UNAUTHENTICATED = {
    "description": "No token, or an expired one: sign in again (`POST /api/v1/auth/token`).",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorDetail"}}},
}
INVALID = {
    "description": (
        "The input is invalid: the body names each field or parameter that is wrong, with "
        'the reason (`{"field": ["…"]}`), or says what is wrong with the body as a whole '
        '(`{"detail": "…"}`: not JSON, nested too deeply). Nothing is saved.'
    ),
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ValidationErrors"}}},
}
COMPONENTS = {
    "ErrorDetail": {
        "type": "object",
        "properties": {"detail": {"type": "string"}},
        "required": ["detail"],
    },
    "ValidationErrors": {
        "type": "object",
        "description": "Messages by field or parameter name; `detail` for the body as a whole.",
        "additionalProperties": {
            "oneOf": [
                {"type": "string"},
                {"type": "array", "items": {"type": "string"}},
                {"type": "object"},
            ]
        },
    },
}
_METHODS = {"get", "put", "post", "patch", "delete"}


def _needs_token(operation: dict[str, Any]) -> bool:
    security = operation.get("security") or []
    # An operation anyone may call lists the empty requirement {} among its alternatives.
    return bool(security) and {} not in security


def _reads_input(operation: dict[str, Any]) -> bool:
    if "requestBody" in operation:
        return True
    # ``page`` past the end answers 404, not 400.
    return any(
        p.get("in") == "query" and p.get("name") != "page" for p in operation.get("parameters", [])
    )


def document_shared_answers(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    """drf-spectacular postprocessing hook (SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"])."""
    used = False
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            if method not in _METHODS:
                continue
            responses = operation.setdefault("responses", {})
            if _needs_token(operation) and "401" not in responses:
                responses["401"] = UNAUTHENTICATED
                used = True
            if _reads_input(operation) and "400" not in responses:
                responses["400"] = INVALID
                used = True
            operation["responses"] = dict(sorted(responses.items()))
    if used:
        schemas = result.setdefault("components", {}).setdefault("schemas", {})
        for name, schema in COMPONENTS.items():
            schemas.setdefault(name, schema)
    return result
