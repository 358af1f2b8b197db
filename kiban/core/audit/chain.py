"""The hash chain: each entry's hash covers its every field and the previous entry's hash.

``hash_n = SHA-256(canonical JSON of entry_n including prev_hash = hash_(n-1))``, with ``hash_0 = GENESIS``.
Changing, removing or reordering any entry changes every later hash; the head (last seq and hash), stored
separately and exportable for anchoring elsewhere, catches removal at the end.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

GENESIS = "0" * 64
HASHED_FIELDS = (
    "lg_code",
    "seq",
    "at",
    "actor",
    "actor_lg_code",
    "roles",
    "action",
    "purpose",
    "subject",
    "outcome",
    "request_id",
    "detail",
    "prev_hash",
)


def canonical_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def entry_hash(fields: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json({k: fields[k] for k in HASHED_FIELDS}).encode()).hexdigest()
