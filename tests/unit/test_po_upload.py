"""Reading purchase-order uploads: mappings, formats, row-level rejections; arbitrary bodies never crash."""

from __future__ import annotations

import json
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shopsync.catalog.po_upload import UploadOptions, parse_upload, strptime_format
from shopsync.catalog.uploads import MAX_UPLOAD_BYTES
from shopsync.errors import InvalidRequest, ShopsyncError
from shopsync.models.presell import POItemStatus

NETSUITE_HEADER = "external-id,product-sku,quantity,external-facility-id,item-external-id,arrival-date"
HOTWAX_HEADER = "Order ID,Product SKU,Arrival Date,Ordered Quantity,Facility ID,isNewProduct"
DEFAULTS = UploadOptions()


def reasons(parsed) -> dict[int, str]:
    return {rejected.row: rejected.reason for rejected in parsed.rejected}


def test_netsuite_header_is_detected_and_rows_are_read():
    body = f"{NETSUITE_HEADER}\nPO-1,SKU-1,10,WH1,1,2026-05-01\nPO-1,SKU-2,4,WH1,2,2026-05-03\n"
    parsed = parse_upload(body, "text/csv", DEFAULTS)
    assert (parsed.format, parsed.mapping, parsed.received, parsed.rejected) == ("csv", "netsuite", 2, [])
    first = parsed.lines[0]
    assert (first.external_id, first.item_id, first.sku, first.quantity) == ("PO-1", "1", "SKU-1", 10)
    assert (first.arrival_date, first.facility_id, first.is_new_product) == (date(2026, 5, 1), "WH1", False)
    assert first.status is POItemStatus.CREATED


def test_hotwax_file_with_bom_and_semicolons_derives_a_stable_item_id():
    body = "\ufeff" + HOTWAX_HEADER.replace(",", ";") + "\nPO-7;ss-tee-blk-m ;05/01/2026;12;WH1;Y\n"
    parsed = parse_upload(body, "text/csv; charset=utf-8", DEFAULTS)
    assert parsed.mapping == "hotwax" and parsed.rejected == []
    (line,) = parsed.lines
    assert (line.item_id, line.arrival_date, line.is_new_product) == ("SS-TEE-BLK-M", date(2026, 5, 1), True)
    again = parse_upload(body, "text/csv", DEFAULTS).lines[0]
    assert again.item_id == line.item_id


def test_bad_rows_are_reported_with_row_numbers_and_good_rows_kept():
    body = "\n".join(
        [
            NETSUITE_HEADER,
            "PO-1,SKU-1,10,WH1,1,2026-05-01",  # row 2: fine
            "PO-1,SKU-2,5,WH1,2,2026-13-45",  # row 3: wrong date
            "PO-1,SKU-3,-4,WH1,3,2026-05-01",  # row 4: negative quantity
            "PO-1,SKU-4,0,WH1,4,2026-05-01",  # row 5: zero
            "PO-1,SKU-5,2.5,WH1,5,2026-05-01",  # row 6: not whole
            "PO-1,,3,WH1,6,2026-05-01",  # row 7: missing SKU
            "PO-1,SKU-7,3,WH1",  # row 8: short row
            "PO-1,SKU-1,10,WH1,1,2026-05-02",  # row 9: duplicate of row 2
            "PO-2,SKU-8,1,WH1,1,2026-06-01",  # row 10: fine
            "PO-3,SKU-9,1,WH1,1,2026-06-01,surprise",  # row 11: more cells than the header
        ]
    )
    parsed = parse_upload(body, "text/csv", DEFAULTS)
    assert [line.row for line in parsed.lines] == [2, 10]
    found = reasons(parsed)
    assert sorted(found) == [3, 4, 5, 6, 7, 8, 9, 11]
    assert "not a date in the format yyyy-MM-dd" in found[3]
    assert "must be positive" in found[4] and "must be positive" in found[5]
    assert "not a whole number" in found[6]
    assert "SKU is missing" in found[7]
    assert "missing" in found[8] and "arrival date" in found[8]
    assert "duplicate of row 2" in found[9]
    assert "7 cells but the header only 6" in found[11]


def test_date_format_buffer_days_and_order_buffer():
    body = f"{NETSUITE_HEADER}\nPO-1,SKU-1,10,WH1,1,01.05.2026\nPO-1,SKU-2,2,WH1,2,31.12.2026\n"
    options = UploadOptions(date_format="dd.MM.yyyy", buffer_days=3, order_buffer=4)
    first, second = parse_upload(body, "text/csv", options).lines
    assert (first.arrival_date, first.quantity) == (date(2026, 5, 4), 6)
    assert (second.arrival_date, second.quantity) == (date(2027, 1, 3), 1)  # never below 1


def test_status_spellings():
    rows = [
        f"PO-1,S{index},1,WH1,{index},2026-05-01,{status}"
        for index, status in enumerate(["ITEM_CANCELLED", "Canceled", "completed", "approved", ""])
    ]
    parsed = parse_upload("\n".join([NETSUITE_HEADER + ",status", *rows]), "text/csv", DEFAULTS)
    assert [line.status.value for line in parsed.lines] == [
        "cancelled",
        "cancelled",
        "completed",
        "approved",
        "created",
    ]


def test_erp_json_items():
    body = json.dumps(
        {
            "items": [
                {
                    "externalId": "PO-9",
                    "itemId": 1,
                    "sku": "SKU-1",
                    "quantity": 3,
                    "arrivalDate": "2026-07-01",
                    "facilityId": "WH2",
                    "isNewProduct": True,
                    "status": "approved",
                },
                {"external_id": "PO-9", "item_id": "2", "sku": "SKU-2", "quantity": "x", "arrival_date": "2026-07-01"},
                "not an object",
                {"externalId": "PO-9", "itemId": "3", "sku": "SKU-3", "quantity": 1},
            ]
        }
    )
    parsed = parse_upload(body, "application/json", DEFAULTS)
    assert parsed.format == "json" and parsed.received == 4
    (line,) = parsed.lines
    assert (line.item_id, line.is_new_product, line.status) == ("1", True, POItemStatus.APPROVED)
    found = reasons(parsed)
    assert "not a whole number" in found[2] and "not a JSON object" in found[3] and "arrival date" in found[4]


@pytest.mark.parametrize(
    ("body", "content_type", "options", "status", "reason"),
    [
        ("", "text/csv", DEFAULTS, 400, "empty"),
        ("foo,bar\n1,2\n", "text/csv", DEFAULTS, 400, "matches no mapping"),
        (f"{NETSUITE_HEADER}\n", "text/csv", DEFAULTS, 400, "no rows"),
        ("PO,SKU\n", "text/csv", UploadOptions(mapping="netsuite"), 400, "lacks the netsuite columns"),
        ("<xml/>", "application/xml", DEFAULTS, 415, "not accepted"),
        ("{not json", "application/json", DEFAULTS, 400, "not valid JSON"),
        ('{"rows": []}', "application/json", DEFAULTS, 400, "'items' list"),
        (f"{NETSUITE_HEADER}\n1,2,3,4,5,6", "text/csv", UploadOptions(date_format="%Y"), 400, "not understood"),
        ("x" * (MAX_UPLOAD_BYTES + 1), "text/csv", DEFAULTS, 413, "limit"),
    ],
)
def test_unusable_bodies_are_refused_as_a_whole(body, content_type, options, status, reason):
    with pytest.raises(ShopsyncError) as refused:
        parse_upload(body, content_type, options)
    assert refused.value.status_code == status and reason in refused.value.reason


def test_date_format_translation():
    assert strptime_format("MM/dd/yyyy") == "%m/%d/%Y"
    assert strptime_format("d.M.yy") == "%d.%m.%y"
    with pytest.raises(InvalidRequest):
        strptime_format("MM/dd")


_cells = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    header=st.sampled_from([NETSUITE_HEADER, HOTWAX_HEADER, HOTWAX_HEADER.replace(",", ";"), "a,b", ""]),
    rows=st.lists(st.lists(_cells, max_size=8), max_size=6),
    delimiter=st.sampled_from([",", ";", "\t"]),
    content_type=st.sampled_from(["text/csv", None, "application/json", "image/png"]),
)
def test_arbitrary_csv_never_raises_anything_but_a_clean_refusal(header, rows, delimiter, content_type):
    body = "\n".join([header, *(delimiter.join(row) for row in rows)])
    try:
        parsed = parse_upload(body, content_type, DEFAULTS)
    except ShopsyncError as refused:
        assert 400 <= refused.status_code < 500 and refused.reason
        return
    assert len(parsed.lines) + len(parsed.rejected) <= parsed.received


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)
_item_keys = st.sampled_from(["externalId", "itemId", "sku", "quantity", "arrivalDate", "isNewProduct", "status"])


@settings(max_examples=100, deadline=None)
@given(
    document=_json_values
    | st.lists(st.dictionaries(_item_keys, _json_values, max_size=7), max_size=5)
    | st.binary(max_size=40).map(lambda raw: raw.decode("latin-1")),
)
def test_arbitrary_json_never_raises_anything_but_a_clean_refusal(document):
    body = document if isinstance(document, str) else json.dumps(document)
    try:
        parsed = parse_upload(body, "application/json", DEFAULTS)
    except ShopsyncError as refused:
        assert 400 <= refused.status_code < 500 and refused.reason
        return
    assert len(parsed.lines) + len(parsed.rejected) == parsed.received
