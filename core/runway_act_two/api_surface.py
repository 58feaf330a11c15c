"""Every constant of Runway's Act-Two contract, in one place.

The client, the validator, the sandbox and the host layers all read these values from here, so a
change in Runway's contract is a one-line change that every part (and the sandbox that tests them)
follows at once. Sources: ``shared/reference/act_two_endpoint.txt`` and ``runway_api.md``.
"""

from __future__ import annotations

import re
from typing import Final

# --- wire -------------------------------------------------------------------------------------
DEFAULT_BASE_URL: Final = "https://api.dev.runwayml.com"
API_VERSION: Final = "2024-11-06"
VERSION_HEADER: Final = "X-Runway-Version"
ENV_API_KEY: Final = "RUNWAYML_API_SECRET"
ENV_BASE_URL: Final = "RUNWAYML_BASE_URL"
API_KEY_PATTERN: Final = re.compile(r"^key_[0-9a-f]{128}$")
DOC_URL: Final = "https://docs.dev.runwayml.com/api"

PATH_CHARACTER_PERFORMANCE: Final = "/v1/character_performance"
PATH_TASK: Final = "/v1/tasks/{id}"
PATH_UPLOADS: Final = "/v1/uploads"
PATH_ORGANIZATION: Final = "/v1/organization"
PATH_ORGANIZATION_USAGE: Final = "/v1/organization/usage"

TASK_ID_PATTERN: Final = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-4[0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}$"
)

# --- the request ------------------------------------------------------------------------------
MODEL: Final = "act_two"
RATIOS: Final = ("1280:720", "720:1280", "960:960", "1104:832", "832:1104", "1584:672")
DEFAULT_RATIO: Final = "1280:720"
SEED_MIN: Final = 0
SEED_MAX: Final = 4_294_967_295
EXPRESSION_INTENSITY_MIN: Final = 1
EXPRESSION_INTENSITY_MAX: Final = 5
EXPRESSION_INTENSITY_DEFAULT: Final = 3
PUBLIC_FIGURE_THRESHOLDS: Final = ("auto", "low")
CHARACTER_TYPES: Final = ("image", "video")

# --- media limits -----------------------------------------------------------------------------
URI_MIN_CHARS: Final = 13
HTTPS_URI_MAX_CHARS: Final = 2048
RUNWAY_URI_MAX_CHARS: Final = 5000
DATA_URI_MAX_CHARS: Final = 5_242_880  # the whole data URI, for images and videos alike
UPLOAD_MAX_BYTES: Final = 200 * 1024 * 1024
URL_IMAGE_MAX_BYTES: Final = 16 * 1024 * 1024
URL_VIDEO_MAX_BYTES: Final = 32 * 1024 * 1024
REFERENCE_MIN_SECONDS: Final = 3.0
REFERENCE_MAX_SECONDS: Final = 30.0
# Container durations and frame-count durations differ by up to a frame; accept that much.
DURATION_TOLERANCE_SECONDS: Final = 0.05
UPLOAD_FILENAME_MIN: Final = 3
UPLOAD_FILENAME_MAX: Final = 255
UPLOAD_TYPE_EPHEMERAL: Final = "ephemeral"
RUNWAY_URI_SCHEME: Final = "runway://"

IMAGE_MIME_TYPES: Final = ("image/jpeg", "image/png", "image/webp")
VIDEO_MIME_TYPES: Final = ("video/mp4", "video/quicktime", "video/webm")
# Extensions Runway's upload endpoint accepts for the filename it is given.
IMAGE_EXTENSIONS: Final = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp"}
VIDEO_EXTENSIONS: Final = {"video/mp4": ".mp4", "video/quicktime": ".mov", "video/webm": ".webm"}

# --- output -----------------------------------------------------------------------------------
OUTPUT_FPS: Final = 24
CREDITS_PER_SECOND: Final = 5
USD_PER_CREDIT: Final = 0.01
RATIO_SIZES: Final = {r: (int(r.split(":")[0]), int(r.split(":")[1])) for r in RATIOS}

# --- tasks ------------------------------------------------------------------------------------
STATUS_PENDING: Final = "PENDING"
STATUS_THROTTLED: Final = "THROTTLED"
STATUS_RUNNING: Final = "RUNNING"
STATUS_SUCCEEDED: Final = "SUCCEEDED"
STATUS_FAILED: Final = "FAILED"
STATUS_CANCELLED: Final = "CANCELLED"
LIVE_STATUSES: Final = frozenset({STATUS_PENDING, STATUS_THROTTLED, STATUS_RUNNING})
TERMINAL_STATUSES: Final = frozenset({STATUS_SUCCEEDED, STATUS_FAILED, STATUS_CANCELLED})
ALL_STATUSES: Final = LIVE_STATUSES | TERMINAL_STATUSES
# Runway documents that a task does not change more often than this.
TASK_UPDATE_CADENCE_SECONDS: Final = 5.0
# The official SDK's wait loop: 6 s +/- 1.5 s between polls, 600 s timeout.
SDK_POLL_SECONDS: Final = 6.0
SDK_POLL_JITTER_SECONDS: Final = 3.0
SDK_WAIT_TIMEOUT_SECONDS: Final = 600.0

# failureCode families: SAFETY.* must not be retried; INTERNAL.* and the others may work later.
FAILURE_CODES: Final = (
    "SAFETY.INPUT.IMAGE",
    "SAFETY.INPUT.TEXT",
    "SAFETY.INPUT.VIDEO",
    "SAFETY.OUTPUT.VIDEO",
    "INTERNAL.BAD_OUTPUT.CODE01",
    "ASSET.INVALID",
    "INPUT_PREPROCESSING.INTERNAL",
    "INPUT_PREPROCESSING.SAFETY.TEXT",
    "INTERNAL",
    "THIRD_PARTY.UNAVAILABLE",
)
NO_RETRY_FAILURE_PREFIXES: Final = ("SAFETY.", "INPUT_PREPROCESSING.SAFETY.", "ASSET.")
RETRYABLE_FAILURE_PREFIXES: Final = ("INTERNAL", "INPUT_PREPROCESSING.INTERNAL", "THIRD_PARTY.")

# --- errors Runway returns --------------------------------------------------------------------
ERROR_VALIDATION: Final = "Validation of body failed"
ERROR_NOT_ENOUGH_CREDITS: Final = "You do not have enough credits to run this task."
ERROR_TASK_NOT_FOUND: Final = "Could not find Task"
ERROR_DAILY_LIMIT: Final = "You have exceeded the daily task limit for this model."
RETRY_AFTER_MS_HEADER: Final = "retry-after-ms"
RETRY_AFTER_HEADER: Final = "Retry-After"
# Statuses after which a create was provably not executed (or shed before execution).
CREATE_SAFE_RETRY_STATUSES: Final = frozenset({429, 502, 503, 504})
READ_RETRY_STATUSES: Final = frozenset({408, 409, 429, 500, 502, 503, 504})


def estimated_credits(reference_seconds: float) -> int:
    """Credits Act-Two charges for an output as long as the reference (whole seconds, rounded up).

    A frame-count duration can fall a hair under the container's (4.97 s for a 5 s clip), so the
    tolerance keeps that from costing an extra second.
    """
    import math

    seconds = max(0.0, reference_seconds - DURATION_TOLERANCE_SECONDS)
    return CREDITS_PER_SECOND * max(1, math.ceil(seconds))


# --- added by the sandbox: more of Runway's observed wording and limits -----------------------
# Asset problems Runway reports as ``custom`` issues (troubleshooting page, D-TS).
ERROR_FETCH_ASSET: Final = (
    "Failed to fetch asset. The URL may be incorrect or the server hosting the asset may be down."
)
ERROR_INVALID_DATA_URI: Final = "Invalid data URI."
ERROR_UNSUPPORTED_ASSET: Final = "Unsupported asset type."
# 401 and the version-header 400 bodies are not documented; these are the sandbox's wording.
ERROR_UNAUTHORIZED: Final = "Invalid API key. Check the Authorization: Bearer key_... header."
ERROR_BAD_VERSION: Final = (
    f"The {VERSION_HEADER} header is missing or invalid; it must be exactly {API_VERSION}."
)
# Ephemeral runway:// URIs stay usable this long (Runway's skill notes: 24 h).
UPLOAD_URI_TTL_SECONDS: Final = 24 * 3600
# Output URLs expire within 24-48 h; fetch the task again for fresh ones.
OUTPUT_URL_TTL_SECONDS: Final = 24 * 3600
# Organization usage queries: at most this many days, 30 by default.
USAGE_MAX_DAYS: Final = 90
USAGE_DEFAULT_DAYS: Final = 30
