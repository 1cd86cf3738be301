"""Every kind of ERP file has one table of columns, which its loader reads and its template
writes; every problem about a code the ERP lacks names the command that adds it.

No database: the headers are matched the way ``open_sheet`` matches them, and the hints are read
from the problem catalogue as the CLI and the e-mail show them.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from services import erp_load, problems
from services.erp_load import (
    FILE_COLUMNS,
    LOADERS,
    file_columns,
    header_key,
    loaders,
    open_sheet,
    template_headers,
    write_template,
)
from services.notify import fill_in

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("kind", list(file_columns()))
def test_a_template_header_is_every_column_its_loader_reads(kind: str, tmp_path: Path) -> None:
    # given the template of a kind, written as CSV
    path = write_template(kind, tmp_path / f"{kind}.csv")
    # when the loader's reader opens it
    sheet = open_sheet(path, kind, file_columns()[kind])
    # then each header is one of the loader's columns, in the table's order, and none is left out
    assert list(sheet.columns) == [c.name for c in file_columns()[kind]]
    assert sheet.ignored == [] and sheet.headers == template_headers(kind)
    for column in file_columns()[kind]:
        assert header_key(column.title) in column.aliases


def test_every_kind_that_loads_has_a_template_and_the_codes_are_there() -> None:
    assert set(loaders()) == set(file_columns())
    assert {"terms", "ship-via", "reps", "divisions", "warehouses", "price-types", "shipments"} <= set(loaders())
    assert template_headers("terms") == ["Code", "Description"]
    assert template_headers("price-types") == ["Code", "Currency", "Description"]
    assert template_headers("styles", ["price:WHL"])[-1] == "price:WHL"
    with pytest.raises(erp_load.LoadError, match="there is no 'colours' file"):
        template_headers("colours")


def test_another_module_can_add_a_kind() -> None:
    columns = (erp_load.Column("ref", ("ref",), True),)

    def load_things(session: object, path: object) -> erp_load.LoadReport:
        return erp_load.LoadReport("things", str(path))

    try:
        erp_load.register_kind("things", load_things, columns)  # type: ignore[arg-type]
        assert LOADERS["things"] is load_things and template_headers("things") == ["Ref"]
    finally:
        LOADERS.pop("things", None)
        FILE_COLUMNS.pop("things", None)


def test_a_kind_another_service_loads_is_imported_when_the_kinds_are_looked_up() -> None:
    # Given a fresh process that imports the ERP loaders (as every `bobbin` command does, through
    # the CLI's modules), when it looks the kinds up, then the shipments kind's module is imported
    # then and not before, and its loader and columns are the kind's
    script = (
        "import sys\n"
        "from services import erp_load\n"
        "before = 'services.erp_handoff' in sys.modules\n"
        "kinds = erp_load.loaders()\n"
        "from services import erp_handoff\n"
        "assert kinds['shipments'] is erp_handoff.load_shipments\n"
        "assert erp_load.file_columns()['shipments'] is erp_handoff.SHIPMENT_COLUMNS\n"
        "print(before)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


# A problem about a code, and the kind of file that adds the code.
CODE_PROBLEMS = {
    "customer_unknown": "customers",
    "sales_rep_unknown": "reps",
    "terms_unmapped": "terms",
    "ship_via_unmapped": "ship-via",
    "warehouse_unmapped": "warehouses",
    "price_type_missing": "price-types",
    "sku_unknown": "styles",
}


@pytest.mark.parametrize(("code", "kind"), CODE_PROBLEMS.items())
def test_a_missing_code_names_the_command_that_adds_it(code: str, kind: str) -> None:
    hint = fill_in(problems.kind(code).resolution, order_id=7, site_name="harbor-bb", value="Net 90")
    assert f"`bobbin erp load {kind} FILE` (template: `bobbin erp template {kind}`)" in hint
    # and every command a hint names is a kind the CLI takes
    for named in re.findall(r"bobbin erp (?:load|template) ([a-z-]+)", hint):
        assert named in loaders()


def test_the_payload_hint_asks_for_the_raw_payload() -> None:
    hint = fill_in(problems.kind("payload_invalid").resolution, order_id=7, site_name="s", value=None)
    assert "`bobbin orders show 7 --raw`" in hint
