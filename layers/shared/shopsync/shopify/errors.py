"""Typed errors of the Shopify client. Callers catch `ShopifyError` for "anything Shopify"; the subclasses say
whether trying again later can help (`ShopifyUnavailable`, `BulkOperationBusy`, `BulkOperationPending`) or not."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class UserError(BaseModel):
    """One entry of a mutation payload's `userErrors` (business validation, HTTP 200)."""

    model_config = ConfigDict(populate_by_name=True, frozen=True)

    field: list[str] | None = None
    message: str
    code: str | None = None
    # Batch mutations (metafieldsSet, inventory) point at the offending input element.
    element_index: int | None = Field(default=None, alias="elementIndex")


class ShopifyError(Exception):
    """Base class of every error raised by shopsync.shopify."""


class ShopifyAuthError(ShopifyError):
    """401/403: the token is wrong, revoked or lacks a scope. Never retried; the message never holds the token."""

    def __init__(self, status_code: int, detail: str) -> None:
        self.status_code = status_code
        super().__init__(f"Shopify refused the access token (HTTP {status_code}): {detail}")


class ShopifyHTTPError(ShopifyError):
    """A non-retryable HTTP status other than 401/403 (402 frozen shop, 404 unknown shop or version, 423 locked…)."""

    def __init__(self, status_code: int, detail: str) -> None:
        self.status_code = status_code
        super().__init__(f"Shopify answered HTTP {status_code}: {detail}")


class ShopifyUnavailable(ShopifyError):
    """Shopify could not be reached or kept failing (5xx, 429, THROTTLED, timeouts) until the attempts or the
    caller's time ran out. Worth retrying in a later run; `last_cause` describes the last failure."""

    def __init__(self, message: str, *, last_cause: str | None = None) -> None:
        self.last_cause = last_cause
        super().__init__(f"{message} (last cause: {last_cause})" if last_cause else message)


class MutationOutcomeUnknown(ShopifyUnavailable):
    """A non-idempotent mutation failed with a 5xx or a timeout after it may have reached Shopify. It was not
    retried because running it twice could apply it twice; the caller must re-read state before trying again."""


class ShopifyGraphQLError(ShopifyError):
    """Top-level `errors[]` that retrying cannot fix: validation, bad variables, access denied, bad request."""

    def __init__(self, messages: Sequence[str], *, codes: Sequence[str | None] = (), data: Any = None) -> None:
        self.messages = list(messages)
        self.codes = list(codes)
        self.data = data
        super().__init__("; ".join(self.messages) or "GraphQL error without message")


class ShopifySearchWarning(ShopifyGraphQLError):
    """A `query:` search string had terms Shopify ignored (extensions.search warnings). Shopify drops unknown
    terms silently, which widens the filter, so the client treats any warning as an error."""


class MaxCostExceeded(ShopifyError):
    """The query's requested cost is above Shopify's single-query limit. Permanent: shrink page sizes."""

    def __init__(self, cost: float | None, max_cost: float | None) -> None:
        self.cost = cost
        self.max_cost = max_cost
        super().__init__(f"query cost {cost} exceeds the single query maximum {max_cost}")


class ShopifyNotFound(ShopifyError):
    """A resource the caller addressed by id does not exist (the query answered null)."""


class ShopifyUserErrors(ShopifyError):
    """A mutation answered with `userErrors`. Never retried: the input has to change."""

    def __init__(self, errors: Sequence[UserError], *, path: Sequence[str] = ()) -> None:
        self.errors = list(errors)
        self.path = tuple(path)
        where = ".".join(self.path) or "mutation"
        details = "; ".join(_describe(error) for error in self.errors)
        super().__init__(f"{where} returned {len(self.errors)} user error(s): {details}")


def _describe(error: UserError) -> str:
    parts = [error.message]
    if error.code:
        parts.append(f"code={error.code}")
    if error.field:
        parts.append(f"field={'.'.join(error.field)}")
    return " ".join(parts)


class BulkOperationBusy(ShopifyUserErrors):
    """bulkOperationRunQuery refused with OPERATION_IN_PROGRESS or LIMIT_REACHED: try again in a later run."""


class BulkOperationFailed(ShopifyError):
    """A bulk operation ended FAILED, CANCELED or EXPIRED, or its id is unknown. Start a new one."""

    def __init__(
        self,
        operation_id: str,
        *,
        status: str | None,
        error_code: str | None,
        partial_data_url: str | None = None,
    ) -> None:
        self.operation_id = operation_id
        self.status = status
        self.error_code = error_code
        self.partial_data_url = partial_data_url
        super().__init__(f"bulk operation {operation_id} ended {status or 'NOT_FOUND'} (errorCode={error_code})")


class BulkOperationPending(ShopifyError):
    """The bulk operation is still running and the caller's time is up: save `operation_id` and poll next run."""

    def __init__(self, operation_id: str, *, status: str) -> None:
        self.operation_id = operation_id
        self.status = status
        super().__init__(f"bulk operation {operation_id} still {status} when time ran out")


class BulkAssemblyError(ShopifyError):
    """The JSONL records of a bulk export cannot be assembled into a tree."""


class BulkOrphanRecords(BulkAssemblyError):
    """Some records name a `__parentId` that no record has (a truncated or partial file)."""

    def __init__(self, orphans: Sequence[dict[str, Any]]) -> None:
        self.orphans = list(orphans)
        parent_ids = sorted({str(record.get("__parentId")) for record in self.orphans})
        super().__init__(f"{len(self.orphans)} bulk record(s) without their parent: {', '.join(parent_ids[:5])}")
