"""PO upload → inventory → catalog refresh → audit, through the API handler and the job runner, against moto."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest

from functions.api.app import lambda_handler as api_handler
from shopsync.catalog import refresh as refresh_module
from shopsync.catalog.refresh import CATALOG_REFRESH
from shopsync.jobs import runner
from shopsync.models.catalog import CatalogProduct
from shopsync.models.jobs import JobInvocation
from shopsync.models.presell import InventoryLevel
from shopsync.models.shop import ShopRole
from shopsync.store import catalog as catalog_store
from shopsync.store import presell as presell_store
from shopsync.store import table
from tests.factories import api_event, lambda_context, register_shop_record

NETSUITE_HEADER = (
    "external-id;product-sku;quantity;external-facility-id;item-external-id;arrival-date;isNewProduct;status"
)
TODAY = datetime.now(UTC).date()
IN_10_DAYS = (TODAY + timedelta(days=10)).isoformat()
IN_30_DAYS = (TODAY + timedelta(days=30)).isoformat()


def catalog_product(number: int) -> CatalogProduct:
    return CatalogProduct(
        product_id=str(1000 + number),
        shopify_product_id=f"gid://shopify/Product/{500 + number}",
        shopify_variant_id=f"gid://shopify/ProductVariant/{1000 + number}",
        inventory_item_id=f"gid://shopify/InventoryItem/{2000 + number}",
        sku=f"SKU-{number}",
        barcode=None if number == 3 else f"00000000000{number}",
        title=f"Tee {number}",
        variant_title="M",
        handle=f"tee-{number}",
        status="ACTIVE",
        shopify_updated_at=datetime(2026, 1, 1, tzinfo=UTC),
    )


@pytest.fixture(autouse=True)
def catalog(aws_table):
    register_shop_record("us-parent")
    register_shop_record("eu-child", role=ShopRole.CHILD)
    catalog_store.upsert_products([catalog_product(n) for n in (1, 2, 3)], "us-parent", datetime.now(UTC))


def call(method: str, path: str, body: str | None = None, *, content_type="application/json", query=None, b64=False):
    event = api_event(method, path, body, query)
    event["headers"] = {**event["headers"], "Content-Type": content_type}
    event["multiValueHeaders"] = {**event["multiValueHeaders"], "Content-Type": [content_type]}
    if b64 and body is not None:
        event.update(body=base64.b64encode(body.encode()).decode(), isBase64Encoded=True)
    response = api_handler(event, lambda_context())
    return response["statusCode"], json.loads(response["body"])


def upload_csv(rows: list[str], **query):
    body = "\ufeff" + "\r\n".join([NETSUITE_HEADER, *rows]) + "\r\n"
    query_strings = {key: str(value) for key, value in query.items()} or None
    return call("POST", "/purchase-orders", body, content_type="text/csv", query=query_strings, b64=True)


def refresh(mode: str = "incremental"):
    (run,) = runner.execute(CATALOG_REFRESH, JobInvocation(params={"mode": mode}), lambda: 600_000)
    return run


def membership_item(product_id: str):
    return table.get_item(f"PRODUCT#{product_id}", "MEMBERSHIP")


def test_csv_upload_stores_valid_rows_and_reports_each_bad_row():
    status, result = upload_csv(
        [
            f"PO-1;sku-1 ;10;WH1;1;{IN_10_DAYS};Y",
            f"PO-1;SKU-2;5;WH1;2;{IN_10_DAYS[:4]}-13-01;Y",
            f"PO-1;SKU-3;-1;WH1;3;{IN_10_DAYS};N",
            f"PO-1;NO-SUCH-SKU;3;WH1;4;{IN_10_DAYS};N",
            "PO-1;SKU-3;3;WH1",
            f"PO-2;SKU-3;7;WH1;1;{IN_30_DAYS};N",
        ]
    )
    assert status == 200
    assert (result["format"], result["mapping"], result["received"]) == ("csv", "netsuite", 6)
    assert (result["created"], result["updated"], result["unchanged"]) == (2, 0, 0)
    rejected = {row["row"]: row["reason"] for row in result["rejected"]}
    assert sorted(rejected) == [3, 4, 5, 6]
    assert "not in the catalog" in rejected[5]
    # stored: each valid line under its product, with its refresh marker; nothing for the rejected ones
    assert [item.sku for item in presell_store.product_state("1001").po_items] == ["sku-1"]
    assert [item.quantity for item in presell_store.product_state("1003").po_items] == [7]
    assert presell_store.product_state("1002").po_items == []
    assert set(presell_store.refresh_markers()) == {"1001", "1003"}


def test_reupload_changes_only_what_changed_and_keeps_allocations():
    rows = [f"PO-1;SKU-1;10;WH1;1;{IN_10_DAYS};Y", f"PO-1;SKU-2;4;WH1;2;{IN_10_DAYS};N"]
    upload_csv(rows)
    item_key = next(
        (item["PK"], item["SK"]) for item in table.query_partition("PRODUCT#1001", "POITEM#")
    )  # order import (a later issue) owns `allocated`
    table.update_item(*item_key, update="SET allocated = :n", values={":n": 3})

    _, unchanged = upload_csv(rows)
    assert (unchanged["created"], unchanged["updated"], unchanged["unchanged"]) == (0, 0, 2)

    _, changed = upload_csv([rows[0].replace(";10;", ";12;"), rows[1] + ";cancelled"])
    assert changed["rejected"] == [], changed
    assert (changed["created"], changed["updated"]) == (0, 2)
    (first,) = presell_store.product_state("1001").po_items
    assert (first.quantity, first.allocated, first.atp) == (12, 3, 9)
    (second,) = presell_store.product_state("1002").po_items
    assert second.status.value == "cancelled"


def test_body_that_is_neither_csv_nor_json_is_refused_and_nothing_is_stored():
    status, body = call("POST", "/purchase-orders", "%PDF-1.7 ...", content_type="application/pdf")
    assert status == 415 and "text/csv" in body["reason"]
    status, body = call("POST", "/purchase-orders", "a,b\n1,2\n", content_type="text/csv", query={"mapping": "sap"})
    assert status == 422  # unknown mapping name: validation error with the reason
    assert presell_store.refresh_markers() == {}


def test_body_that_is_not_utf8_text_is_refused():
    event = api_event("POST", "/purchase-orders", None)
    event.update(body=base64.b64encode(b"\xff\xfe\x00garbage").decode(), isBase64Encoded=True)
    response = api_handler(event, lambda_context())
    assert response["statusCode"] == 400 and "not UTF-8" in json.loads(response["body"])["reason"]


def test_inventory_rows():
    status, result = call(
        "PUT",
        "/inventory",
        json.dumps(
            [
                {"sku": "SKU-1", "on_hand": 0, "online_atp": 0},
                {"product_id": "1002", "on_hand": 4, "online_atp": 3},
                {"sku": "SKU-9", "on_hand": 1, "online_atp": 1},
                {"sku": "SKU-3", "on_hand": "two", "online_atp": 1},
                {"product_id": "1001", "on_hand": 1, "online_atp": 1},
                {"on_hand": 1, "online_atp": 1},
            ]
        ),
    )
    assert status == 200
    assert (result["created"], result["updated"]) == (2, 0)
    assert [row["row"] for row in result["rejected"]] == [3, 4, 5, 6]
    assert "duplicate of row 1" in result["rejected"][2]["reason"]
    assert presell_store.product_state("1002").inventory.online_atp == 3


def test_refresh_adds_to_presell_catalog_and_audit_shows_it():
    upload_csv([f"PO-1;SKU-1;10;WH1;1;{IN_30_DAYS};Y", f"PO-2;SKU-1;6;WH1;1;{IN_10_DAYS};N"])
    call("PUT", "/inventory", json.dumps([{"sku": "SKU-1", "on_hand": 0, "online_atp": 0}]))

    run = refresh()
    assert (run.counts.read, run.counts.written) == (1, 1)
    stored = membership_item("1001")
    assert (stored["category"], stored["promise_date"], stored["po_atp"]) == ("BACKORDER", IN_10_DAYS, 16)
    assert stored["decision_po_item"] == {"external_id": "PO-2", "item_id": "1"}
    assert presell_store.refresh_markers() == {}

    status, audit = call("GET", "/products/1001")
    assert status == 200
    assert audit["identifiers"]["sku"] == "SKU-1"
    assert audit["membership"]["category"] == "BACKORDER" and audit["membership"]["promise_date"] == IN_10_DAYS
    assert audit["evaluation"]["next_refresh_action"] == "KEEP"
    assert [item["external_id"] for item in audit["purchase_order_items"]] == ["PO-2", "PO-1"]
    stores = {store["shop_id"]: store for store in audit["stores"]}
    assert stores["us-parent"]["association"]["linked"] is True
    assert stores["eu-child"]["association"]["linked"] is False and stores["eu-child"]["association"]["reason"]
    assert {store["listing_status"] for store in audit["stores"]} == {"not synced yet"}

    # the back-order PO is cancelled: the pre-order PO takes over → category switch, promise date moves
    upload_csv([f"PO-2;SKU-1;6;WH1;1;{IN_10_DAYS};N;cancelled"], mapping="netsuite")
    refresh()
    stored = membership_item("1001")
    assert (stored["category"], stored["promise_date"], stored["po_atp"]) == ("PRE_ORDER", IN_30_DAYS, 10)

    # back in stock → removed, with the cause kept for the audit
    call("PUT", "/inventory", json.dumps([{"sku": "SKU-1", "on_hand": 5, "online_atp": 5}]))
    refresh()
    stored = membership_item("1001")
    assert "category" not in stored and stored["removal_cause"] == "IN_STOCK"
    assert presell_store.all_members() == set()


def test_audit_of_a_product_without_barcode_or_purchase_orders():
    # a stored product drops its empty attributes; reading it back must not need them
    status, audit = call("GET", "/products/1003")
    assert status == 200 and audit["identifiers"]["barcode"] is None
    assert audit["membership"] is None and audit["evaluation"]["next_refresh_action"] == "NONE"
    assert call("GET", "/products/999")[0] == 404


def test_refresh_writes_nothing_when_nothing_changed():
    upload_csv([f"PO-1;SKU-1;10;WH1;1;{IN_10_DAYS};Y"])
    refresh()
    before = membership_item("1001")
    # a full pass and an incremental pass with a marker but no real change: no membership write
    presell_store.write_rows([presell_store.inventory_write(1, _inventory("1001", 0))], datetime.now(UTC))
    assert refresh().counts.written == 0
    assert refresh("full").counts.written == 0
    assert membership_item("1001") == before


def test_members_whose_promise_date_passed_are_rechecked_without_a_marker():
    upload_csv([f"PO-1;SKU-1;10;WH1;1;{IN_10_DAYS};Y"])
    refresh()
    assert presell_store.members_with_promise_before(TODAY) == set()
    assert presell_store.members_with_promise_before(TODAY + timedelta(days=11)) == {"1001"}


def test_marker_rewritten_during_a_refresh_survives_it():
    upload_csv([f"PO-1;SKU-1;10;WH1;1;{IN_10_DAYS};Y"])
    seen = presell_store.refresh_markers()["1001"]
    upload_csv([f"PO-1;SKU-1;11;WH1;1;{IN_10_DAYS};Y"])  # re-marks 1001 with a new mark id
    presell_store.clear_refresh_marker("1001", seen)
    assert "1001" in presell_store.refresh_markers()


def test_a_row_whose_transaction_fails_is_reported_and_the_others_are_stored(monkeypatch):
    real_transact = table.transact_write

    def refuse_sku_2(operations):
        if any(op.get("Update", {}).get("Key", {}).get("PK") == "PRODUCT#1002" for op in operations):
            raise table.TransactionConflict(["TransactionConflict"])
        real_transact(operations)

    monkeypatch.setattr(table, "transact_write", refuse_sku_2)
    _, result = upload_csv([f"PO-1;SKU-1;10;WH1;1;{IN_10_DAYS};Y", f"PO-1;SKU-2;4;WH1;2;{IN_10_DAYS};Y"])
    assert result["created"] == 1 and [row["row"] for row in result["rejected"]] == [3]
    assert presell_store.product_state("1002").po_items == []
    assert set(presell_store.refresh_markers()) == {"1001"}  # no marker without its row, and vice versa


def _inventory(product_id: str, online_atp: int):
    return InventoryLevel(product_id=product_id, on_hand=0, online_atp=online_atp, updated_at=datetime.now(UTC))


def test_full_pass_stops_before_the_deadline_and_the_next_run_resumes_after_the_last_product(monkeypatch):
    upload_csv([f"PO-{n};SKU-{n};5;WH1;1;{IN_10_DAYS};Y" for n in (1, 2, 3)])
    table.batch_write(deletes=[presell_store.refresh_marker_key(p) for p in presell_store.refresh_markers()])
    monkeypatch.setattr(refresh_module, "REFRESH_CHUNK", 1)
    budget = iter([600_000])  # time for one chunk, then the deadline is near

    (first,) = runner.execute(CATALOG_REFRESH, JobInvocation(params={"mode": "full"}), lambda: next(budget, 0))
    assert not first.completed and first.counts.written == 1
    assert [membership_item(p) is not None for p in ("1001", "1002", "1003")] == [True, False, False]

    (second,) = runner.execute(CATALOG_REFRESH, JobInvocation(), lambda: 600_000)  # a plain scheduled run
    assert second.completed and (second.counts.read, second.counts.written) == (2, 2)
    assert all(membership_item(p)["category"] == "PRE_ORDER" for p in ("1001", "1002", "1003"))
