"""The client's contract and the sandbox's own tables state the same API, name by name.

Each sandbox keeps its own literal copy of its partner's document (``sandbox/<partner>/api.py``)
and never imports the client's contract, so a mistake in either side fails the tests that talk
to the sandbox; this test names the difference. Names only one side has must be listed here with
why (the client's mapper spellings and drift list are not part of what the partner serves).
"""

from __future__ import annotations

import inspect
from datetime import UTC, datetime
from types import ModuleType
from typing import Any

import pytest

from connectors.brandboom import contract as brandboom_contract
from connectors.joor import contract as joor_contract
from sandbox.brandboom import api as brandboom_api
from sandbox.joor import api as joor_api

# What the client keeps for itself: how its mapper reads payloads (spellings, error fields, drift).
CLIENT_ONLY = {
    "brandboom": {"ORDER_FIELDS", "PAYLOAD", "SHIP_TO_PLACES", "BILL_TO_PLACES"},
    "joor": {"ORDER_FIELDS", "PAYLOAD", "ORDER_ID_KEYS", "CUSTOMER_EMAIL_PLACES", "order_id_of", "order_items_of"},
}
SAMPLES: dict[str, list[tuple[Any, ...]]] = {
    "signature": [("PUBKEY", "SECRET", 1700000000), ("a", "b", "0")],
    "authorization": [("token-123",), ("",)],
    "range_timestamp": [(datetime(2026, 11, 2, 9, 30, 1, 250000, tzinfo=UTC),), (datetime(2026, 1, 1),)],
    "request_credits": [("GET",), ("post",), ("PUT",), ("HEAD",)],
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
        if name in CLIENT_ONLY[partner]:
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
    # a fresh interpreter that loads both sandboxes has loaded nothing of connectors/
    import subprocess
    import sys

    code = (
        "import sys, sandbox.brandboom.server, sandbox.joor.server; "
        "print(sorted(m for m in sys.modules if m == 'connectors' or m.startswith('connectors.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.strip() == "[]", out.stdout
