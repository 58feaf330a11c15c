"""Schema validation of request bodies, answering with Runway's Zod-style issues.

Runway validates bodies with Zod and answers ``400 {"error": "Validation of body failed",
"issues": [{code, path, message, ...}], "docUrl"}``. Clients parse ``issues[].path`` to tell the
user which field is wrong, so the sandbox must produce the same codes and paths, all issues at
once (Zod does not stop at the first), or client error handling is tested against fiction.
"""

from __future__ import annotations

from typing import Any

from .. import api_surface as api

Issue = dict[str, Any]
Path = list[str | int]


def _type_name(value: Any) -> str:
    """Zod's name for the received type."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def invalid_type(path: Path, expected: str, value: Any, *, missing: bool = False) -> Issue:
    received = "undefined" if missing else _type_name(value)
    return {
        "code": "invalid_type",
        "expected": expected,
        "path": path,
        "message": f"Invalid input: expected {expected}, received {received}",
    }


def invalid_value(path: Path, values: list[Any]) -> Issue:
    import json

    if len(values) == 1:
        message = f"Invalid input: expected {json.dumps(values[0])}"
    else:
        message = "Invalid option: expected one of " + "|".join(json.dumps(v) for v in values)
    return {"code": "invalid_value", "values": values, "path": path, "message": message}


def too_small(path: Path, minimum: int | float, origin: str) -> Issue:
    what = (
        f"string to have >={minimum} characters"
        if origin == "string"
        else f"{origin} to be >={minimum}"
    )
    return {
        "code": "too_small",
        "minimum": minimum,
        "inclusive": True,
        "origin": origin,
        "path": path,
        "message": f"Too small: expected {what}",
    }


def too_big(path: Path, maximum: int | float, origin: str) -> Issue:
    what = (
        f"string to have <={maximum} characters"
        if origin == "string"
        else f"{origin} to be <={maximum}"
    )
    return {
        "code": "too_big",
        "maximum": maximum,
        "inclusive": True,
        "origin": origin,
        "path": path,
        "message": f"Too big: expected {what}",
    }


def custom(path: Path, message: str) -> Issue:
    return {"code": "custom", "path": path, "message": message}


def validation_body(issues: list[Issue]) -> dict[str, Any]:
    return {"error": api.ERROR_VALIDATION, "issues": issues, "docUrl": api.DOC_URL}


# --- the uri anyOf ----------------------------------------------------------------------------
def _uri_branches(kind: str) -> list[tuple[str, str, int]]:
    """(prefix, human pattern, max length) for each accepted kind of uri."""
    return [
        ("https://", "^https:\\/\\/.*", api.HTTPS_URI_MAX_CHARS),
        (api.RUNWAY_URI_SCHEME, "^runway:\\/\\/.*", api.RUNWAY_URI_MAX_CHARS),
        (f"data:{kind}/", f"^data:{kind}\\/.*", api.DATA_URI_MAX_CHARS),
    ]


def _check_uri(path: Path, value: Any, kind: str, *, missing: bool) -> list[Issue]:
    if missing or not isinstance(value, str):
        return [invalid_type(path, "string", value, missing=missing)]
    branch_errors: list[list[Issue]] = []
    for prefix, pattern, max_len in _uri_branches(kind):
        errs: list[Issue] = []
        if len(value) < api.URI_MIN_CHARS:
            errs.append(too_small(path, api.URI_MIN_CHARS, "string"))
        if len(value) > max_len:
            errs.append(too_big(path, max_len, "string"))
        if not value.startswith(prefix):
            errs.append(
                {
                    "code": "invalid_format",
                    "format": "regex",
                    "pattern": pattern,
                    "path": path,
                    "message": f"Invalid string: must match pattern /{pattern}/",
                }
            )
        if not errs:
            return []
        branch_errors.append(errs)
    # The branch whose prefix matched tells the most; Zod reports every branch's issues.
    matched = [errs for errs in branch_errors if all(e["code"] != "invalid_format" for e in errs)]
    message = "Invalid input"
    if matched:
        message = matched[0][0]["message"]
    elif value.startswith("data:"):
        message = f"Invalid input: a data URI here must start with data:{kind}/"
    elif value.startswith("http://"):
        message = "Invalid input: only https:// URLs are allowed"
    else:
        message = "Invalid input: expected an https:// URL, a runway:// URI or a data URI"
    return [
        {
            "code": "invalid_union",
            "errors": [
                [{k: v for k, v in e.items() if k != "path"} for e in b] for b in branch_errors
            ],
            "path": path,
            "message": message,
        }
    ]


def _check_media(path: Path, value: Any, missing: bool, kinds: tuple[str, ...]) -> list[Issue]:
    """character / reference: an object discriminated on ``type`` with a ``uri``."""
    if missing or not isinstance(value, dict):
        return [invalid_type(path, "object", value, missing=missing)]
    kind = value.get("type")
    if "type" not in value or kind not in kinds:
        return [invalid_value([*path, "type"], list(kinds))]
    return _check_uri([*path, "uri"], value.get("uri"), str(kind), missing="uri" not in value)


def _check_int(path: Path, value: Any, lo: int, hi: int) -> list[Issue]:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return [invalid_type(path, "number", value)]
    if isinstance(value, float) and not value.is_integer():
        return [invalid_type(path, "int", value) | {"received": "number"}]
    if value < lo:
        return [too_small(path, lo, "number")]
    if value > hi:
        return [too_big(path, hi, "number")]
    return []


def check_character_performance(body: Any) -> list[Issue]:
    """Every schema issue of a ``POST /v1/character_performance`` body (empty list: valid)."""
    if not isinstance(body, dict):
        return [invalid_type([], "object", body)]
    issues: list[Issue] = []
    if body.get("model") != api.MODEL:
        issues.append(invalid_value(["model"], [api.MODEL]))
        return issues  # the discriminator decides which schema applies; nothing else is checked
    issues += _check_media(
        ["character"], body.get("character"), "character" not in body, api.CHARACTER_TYPES
    )
    issues += _check_media(
        ["reference"], body.get("reference"), "reference" not in body, ("video",)
    )
    if "bodyControl" in body and not isinstance(body["bodyControl"], bool):
        issues.append(invalid_type(["bodyControl"], "boolean", body["bodyControl"]))
    if "expressionIntensity" in body:
        issues += _check_int(
            ["expressionIntensity"],
            body["expressionIntensity"],
            api.EXPRESSION_INTENSITY_MIN,
            api.EXPRESSION_INTENSITY_MAX,
        )
    if "seed" in body:
        issues += _check_int(["seed"], body["seed"], api.SEED_MIN, api.SEED_MAX)
    if "ratio" in body:
        ratio = body["ratio"]
        if not isinstance(ratio, str):
            issues.append(invalid_type(["ratio"], "string", ratio))
        elif ratio not in api.RATIOS:
            issues.append(invalid_value(["ratio"], list(api.RATIOS)))
    if "contentModeration" in body:
        cm = body["contentModeration"]
        if not isinstance(cm, dict):
            issues.append(invalid_type(["contentModeration"], "object", cm))
        else:
            extra = sorted(k for k in cm if k != "publicFigureThreshold")
            if extra:
                keys = ", ".join(f'"{k}"' for k in extra)
                noun = "key" if len(extra) == 1 else "keys"
                issues.append(
                    {
                        "code": "unrecognized_keys",
                        "keys": extra,
                        "path": ["contentModeration"],
                        "message": f"Unrecognized {noun}: {keys}",
                    }
                )
            if "publicFigureThreshold" in cm:
                pft = cm["publicFigureThreshold"]
                if not isinstance(pft, str):
                    issues.append(
                        invalid_type(["contentModeration", "publicFigureThreshold"], "string", pft)
                    )
                elif pft not in api.PUBLIC_FIGURE_THRESHOLDS:
                    issues.append(
                        invalid_value(
                            ["contentModeration", "publicFigureThreshold"],
                            list(api.PUBLIC_FIGURE_THRESHOLDS),
                        )
                    )
    return issues


def check_upload(body: Any) -> list[Issue]:
    """``POST /v1/uploads``: ``{"filename": 3..255 chars, "type": "ephemeral"}``."""
    if not isinstance(body, dict):
        return [invalid_type([], "object", body)]
    issues: list[Issue] = []
    name = body.get("filename")
    if "filename" not in body or not isinstance(name, str):
        issues.append(invalid_type(["filename"], "string", name, missing="filename" not in body))
    elif len(name) < api.UPLOAD_FILENAME_MIN:
        issues.append(too_small(["filename"], api.UPLOAD_FILENAME_MIN, "string"))
    elif len(name) > api.UPLOAD_FILENAME_MAX:
        issues.append(too_big(["filename"], api.UPLOAD_FILENAME_MAX, "string"))
    if body.get("type") != api.UPLOAD_TYPE_EPHEMERAL:
        issues.append(invalid_value(["type"], [api.UPLOAD_TYPE_EPHEMERAL]))
    return issues


def check_usage(body: Any) -> list[Issue]:
    """``POST /v1/organization/usage``: optional ``startDate`` / ``beforeDate`` (YYYY-MM-DD)."""
    import datetime as dt

    if not isinstance(body, dict):
        return [invalid_type([], "object", body)]
    issues: list[Issue] = []
    for key in ("startDate", "beforeDate"):
        if key not in body:
            continue
        value = body[key]
        if not isinstance(value, str):
            issues.append(invalid_type([key], "string", value))
            continue
        try:
            dt.date.fromisoformat(value)
            ok = len(value) == 10
        except ValueError:
            ok = False
        if not ok:
            issues.append(
                {
                    "code": "invalid_format",
                    "format": "date",
                    "path": [key],
                    "message": "Invalid ISO date",
                }
            )
    return issues
