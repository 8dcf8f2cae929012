"""Bulk mutations: one mutation run by Shopify once per JSONL line, for batches large enough to pay off (the whole
operation costs about what one call does)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from shopsync.shopify.bulk import download_jsonl, poll_bulk_operation
from shopsync.shopify.client import ShopifyClient, raise_for_user_errors
from shopsync.shopify.documents import load_document
from shopsync.shopify.errors import ShopifyError

VARIABLES_FILENAME = "variables.jsonl"


def run_bulk_mutation(
    client: ShopifyClient,
    mutation: str,
    lines: Sequence[Mapping[str, Any]],
    *,
    time_remaining_s: Callable[[], float],
    poll_interval_s: float,
) -> list[dict[str, Any]]:
    """Upload the variables, run `mutation` over them and return each line's result, in input order: `{"data": …}`
    or `{"errors": […]}`. Raises BulkOperationPending when time runs out first."""
    staged = client.execute(
        load_document("StagedUploadsCreate"),
        {
            "input": [
                {
                    "resource": "BULK_MUTATION_VARIABLES",
                    "filename": VARIABLES_FILENAME,
                    "mimeType": "text/jsonl",
                    "httpMethod": "POST",
                }
            ]
        },
    )
    (target,) = raise_for_user_errors(staged, ("stagedUploadsCreate",))["stagedTargets"]
    parameters = {parameter["name"]: parameter["value"] for parameter in target["parameters"]}
    content = "".join(json.dumps(line, separators=(",", ":")) + "\n" for line in lines).encode()
    client.upload_staged_file(target["url"], parameters, VARIABLES_FILENAME, content)
    started = client.execute(
        load_document("BulkRunMutation"), {"mutation": mutation, "stagedUploadPath": parameters["key"]}
    )
    operation = raise_for_user_errors(started, ("bulkOperationRunMutation",))["bulkOperation"]
    result = poll_bulk_operation(
        client, operation["id"], time_remaining_s=time_remaining_s, poll_interval_s=poll_interval_s
    )
    results: dict[int, dict[str, Any]] = {}
    for record in download_jsonl(client, result.url):
        results[int(record.pop("__lineNumber"))] = record
    missing = [number for number in range(len(lines)) if number not in results]
    if missing:
        raise ShopifyError(f"bulk mutation {operation['id']} returned no result for lines {missing[:10]}")
    return [results[number] for number in range(len(lines))]
