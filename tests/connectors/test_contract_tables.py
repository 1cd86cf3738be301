"""The client's contract and the sandbox's own tables state the same API, name by name.

Each sandbox keeps its own literal copy of its partner's document (``sandbox/<partner>/api.py``)
and never imports the client's contract, so a mistake in either side fails the tests that talk
to the sandbox; this test names the difference. Names only one side has must be listed here with
why: CLIENT_ONLY (the client's mapper spellings and drift list are not part of what the partner
serves) and SANDBOX_ONLY (how the sandbox serves: its defaults, refusals and webhook delivery).
"""

from __future__ import annotations

import inspect
from datetime import UTC, datetime
from types import ModuleType
from typing import Any

import pytest

from connectors.brandboom import contract as brandboom_contract
from connectors.joor import contract as joor_contract
from connectors.loop import contract as loop_contract
from sandbox.brandboom import api as brandboom_api
from sandbox.joor import api as joor_api
from sandbox.loop import api as loop_api

# What the client keeps for itself: how its mapper reads payloads (spellings, error fields, drift).
CLIENT_ONLY = {
    "brandboom": {"ORDER_FIELDS", "PAYLOAD", "SHIP_TO_PLACES", "BILL_TO_PLACES"},
    "joor": {"ORDER_FIELDS", "PAYLOAD", "ORDER_ID_KEYS", "CUSTOMER_EMAIL_PLACES", "order_id_of", "order_items_of"},
    "loop": {
        # the mapper's spellings and drift list: where it looks for a fact, and how it parses time
        # (any list fraction, "%f"; the sandbox writes ".000Z", its LIST_TIME_FORMAT)
        "PAYLOAD",
        "CUSTOMER_EMAIL_PLACES",
        "LINE_TITLE_KEYS",
        "TIMESTAMP_FORMATS",
        # [DOC mirror] flat label keys on a listed return, known to the drift count only: section
        # 3.3 lists them inside labels[] alone, and the sandbox does not serve them flat
        "ListLabelField",
        # answers the client tolerates and the sandbox never gives: [DOC mirror] {"content": ...}
        # refusals, "false", and GET notes wrapped as {"notes": [...]} (the sandbox answers a bare array)
        "ERROR_CONTENT",
        "ANSWER_FALSE",
        "R_NOTES",
        # the client's own choices and lookups, built from compared names: the verb -> path table,
        # which actions carry a body, the paging window and page size it asks for ([INF]; the
        # sandbox's default is SERVED_DEFAULT_PAGE_SIZE), its request Content-Type, cutting long
        # notes, where a person fixes a key
        "ACTION_PATHS",
        "ACTIONS_WITH_BODY",
        "MAX_RANGE",
        "REQUESTED_PAGE_SIZE",
        "JSON_CONTENT_TYPE",
        "NOTE_CUT_MARK",
        "KEY_PLACE",
        # helpers: writing from / to and ids, cutting windows and notes, checking a received
        # webhook; UTC is the datetime import
        "UTC",
        "as_utc",
        "range_timestamp",
        "windows",
        "return_id_text",
        "fit_note",
        "signature_valid",
        "verify_webhook",
    },
}
# What the sandbox keeps for itself: how it serves the API (its defaults when a request leaves a
# parameter out, its refusals, state machine and webhook delivery, the types it writes per endpoint).
SANDBOX_ONLY: dict[str, set[str]] = {
    "brandboom": set(),
    "joor": set(),
    "loop": {
        # defaults for what a request leaves out: the client always sends filter, from / to and
        # pageSize ([INF]; the client's page size is REQUESTED_PAGE_SIZE)
        "DEFAULT_FILTER",
        "DEFAULT_RANGE_HOURS",
        "SERVED_DEFAULT_PAGE_SIZE",
        # its answers: the 401 body (built from compared names), the [INF] refusal codes and 429
        # text, the action state machine; the client reads codes as data, whatever they are
        "UNAUTHORIZED_BODY",
        "INVALID_PARAMETER",
        "INVALID_DATE_RANGE",
        "RETURN_NOT_FOUND",
        "NOTES_NOT_FOUND",
        "NOT_FOUND",
        "TOO_MANY_REQUESTS_MESSAGE",
        "TRANSITIONS",
        "FLAGGED_REFUSAL",
        # the verbs it routes (the client's ACTION_PATHS; both are built from compared ACTION_* names)
        "ACTIONS",
        # how it writes a return: which keys are money, ids and timestamps, per endpoint, and the
        # list's time format; lists built from compared field classes
        "MONEY_FIELDS",
        "LINE_MONEY_FIELDS",
        "RETURN_ID_FIELDS",
        "LINE_ID_FIELDS",
        "REFUND_ID_FIELDS",
        "WEBHOOK_STRING_IDS",
        "WEBHOOK_INT_IDS",
        "WEBHOOK_ONLY_FIELDS",
        "CUSTOMER_DETAIL_FIELDS",
        "ADDRESS_FIELDS",
        "TIMESTAMP_FIELDS",
        "LINE_TIMESTAMP_FIELDS",
        "LABEL_TIMESTAMP_FIELDS",
        "LIST_TIME_FORMAT",
        # sending webhooks: the client only receives them
        "WEBHOOK_CONTENT_TYPE",
        "WEBHOOK_RETRIES",
        "WEBHOOK_ATTEMPTS",
        "MAX_RETRY_AFTER_SECONDS",
        "WEBHOOK_BACKOFF_BASE_SECONDS",
        "WEBHOOK_BACKOFF_CAP_SECONDS",
        "WEBHOOK_TIMEOUT_SECONDS",
    },
}
SAMPLES: dict[str, list[tuple[Any, ...]]] = {
    "signature": [("PUBKEY", "SECRET", 1700000000), ("a", "b", "0")],
    "authorization": [("token-123",), ("",)],
    "range_timestamp": [(datetime(2026, 11, 2, 9, 30, 1, 250000, tzinfo=UTC),), (datetime(2026, 1, 1),)],
    "request_credits": [("GET",), ("post",), ("PUT",), ("HEAD",)],
    "webhook_signature": [
        ("whsec-1", b'{"topic":"return","url":"https:\\/\\/x"}'),
        ("sécret", "é".encode()),
        ("", b""),
    ],
}


def _public(module: ModuleType) -> dict[str, Any]:
    names = {}
    for name, value in vars(module).items():
        if (
            name.startswith("_")
            or inspect.ismodule(value)
            or getattr(value, "__module__", module.__name__) not in (module.__name__, "builtins", None)
            and not isinstance(value, (str, int, float, tuple, dict, frozenset))
        ):
            continue
        if name in ("annotations", "Final", "Any", "Mapping") or "mutmut" in name or name == "MutantDict":
            continue  # typing names; the helpers `make mutate` adds to a module it mutates
        names[name] = value
    return names


def _differences(partner: str, contract: ModuleType, api: ModuleType) -> list[str]:
    ours, theirs = _public(contract), _public(api)
    found = []
    for name in sorted(set(ours) | set(theirs)):
        if name in CLIENT_ONLY[partner] or name in SANDBOX_ONLY[partner]:
            continue
        if name not in theirs:
            found.append(f"{name}: in the client's contract, not in the sandbox's tables")
            continue
        if name not in ours:
            found.append(f"{name}: in the sandbox's tables, not in the client's contract")
            continue
        a, b = ours[name], theirs[name]
        if inspect.isclass(a):
            fields_a = {k: v for k, v in vars(a).items() if k.isupper()}
            fields_b = {k: v for k, v in vars(b).items() if k.isupper()}
            for key in sorted(set(fields_a) | set(fields_b)):
                if fields_a.get(key) != fields_b.get(key):
                    found.append(f"{name}.{key}: contract {fields_a.get(key)!r} != sandbox {fields_b.get(key)!r}")
        elif inspect.isfunction(a):
            for args in SAMPLES.get(name, []):
                if a(*args) != b(*args):
                    found.append(f"{name}{args}: contract {a(*args)!r} != sandbox {b(*args)!r}")
            if name not in SAMPLES:
                found.append(f"{name}: a function with no samples to compare; add some to SAMPLES")
        elif a != b:
            found.append(f"{name}: contract {a!r} != sandbox {b!r}")
    return found


@pytest.mark.parametrize(
    ("partner", "contract", "api"),
    [
        ("brandboom", brandboom_contract, brandboom_api),
        ("joor", joor_contract, joor_api),
        ("loop", loop_contract, loop_api),
    ],
)
def test_the_sandbox_and_the_client_state_the_same_api(partner: str, contract: ModuleType, api: ModuleType) -> None:
    differences = _differences(partner, contract, api)
    assert not differences, f"{partner}: the contract and the sandbox disagree:\n  " + "\n  ".join(differences)


def test_a_changed_header_or_status_is_named() -> None:
    # a contract whose signature header was renamed, and whose FAILED export state moved
    class Changed(ModuleType):
        pass

    changed = Changed("connectors.brandboom.contract")
    vars(changed).update({k: v for k, v in vars(brandboom_contract).items()})
    changed.HEADER_SIGNATURE = "X-Sig"  # type: ignore[attr-defined]
    assert "HEADER_SIGNATURE: contract 'X-Sig' != sandbox 'X-Auth-Signature'" in _differences(
        "brandboom", changed, brandboom_api
    )
    joor_changed = Changed("connectors.joor.contract")
    vars(joor_changed).update({k: v for k, v in vars(joor_contract).items()})
    joor_changed.EXPORT_NOT_EXPORTED = 4  # type: ignore[attr-defined]
    assert any(
        d.startswith("EXPORT_NOT_EXPORTED: contract 4 != sandbox 2")
        for d in _differences("joor", joor_changed, joor_api)
    )


def test_the_sandboxes_never_import_the_clients() -> None:
    # a fresh interpreter that loads the sandboxes has loaded nothing of connectors/
    import subprocess
    import sys

    code = (
        "import sys, sandbox.brandboom.server, sandbox.joor.server, sandbox.loop.server; "
        "print(sorted(m for m in sys.modules if m == 'connectors' or m.startswith('connectors.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.strip() == "[]", out.stdout
