"""The order node of OrdersPage / OrderById (and the line nodes of OrderLineItemsPage) as the Admin API returns it,
validated at the boundary: whatever a node holds, it either becomes these models or a list of every field that is
missing or not what the API returns. Nothing here decides whether an order is importable (rules.py does).

Bounds that the API guarantees are checked because the rest of shopsync relies on them: GraphQL `Int` is 32-bit,
strings are Unicode (DynamoDB refuses lone surrogates), date-times carry an offset and leave room for date arithmetic.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    StringConstraints,
)
from pydantic.alias_generators import to_camel

GRAPHQL_INT_MAX = 2**31 - 1
ORDER_GID_PATTERN = r"^gid://shopify/Order/[1-9][0-9]{0,19}$"


def _unicode(value: str) -> str:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as error:
        raise ValueError(f"is not valid Unicode (unpaired surrogate at {error.start})") from error
    return value


def _iso_string(value: Any) -> Any:
    # pydantic would read a number as a Unix timestamp; the Admin API's DateTime is always an ISO 8601 string.
    if not isinstance(value, str):
        raise ValueError("is not an ISO 8601 date-time string")
    return value


def _plausible_year(value: datetime) -> datetime:
    # The ends of the calendar leave no room for shopsync's time arithmetic (OverflowError).
    if not 1970 <= value.year <= 9000:
        raise ValueError(f"year {value.year} is out of range")
    return value


Text = Annotated[str, Strict(), AfterValidator(_unicode)]
Count = Annotated[int, Strict(), Field(ge=0, le=GRAPHQL_INT_MAX)]
Moment = Annotated[AwareDatetime, BeforeValidator(_iso_string), AfterValidator(_plausible_year)]
OrderGid = Annotated[Text, StringConstraints(pattern=ORDER_GID_PATTERN)]
LineItemGid = Annotated[Text, StringConstraints(pattern=r"^gid://shopify/LineItem/[1-9][0-9]{0,19}$")]
LegacyId = Annotated[Text, StringConstraints(pattern=r"^[1-9][0-9]{0,19}$")]


class _Node(BaseModel):
    model_config = ConfigDict(frozen=True, alias_generator=to_camel, extra="ignore")


class NamedNode(_Node):
    name: Text | None = None


class IdNode(_Node):
    id: Text | None = None


class AddressNode(_Node):
    name: Text | None = None
    first_name: Text | None = None
    last_name: Text | None = None
    company: Text | None = None
    address1: Text | None = None
    address2: Text | None = None
    city: Text | None = None
    province: Text | None = None
    province_code: Text | None = None
    zip: Text | None = None
    country: Text | None = None
    country_code_v2: Text | None = None
    phone: Text | None = None


class EmailNode(_Node):
    email_address: Text | None = None


class PhoneNode(_Node):
    phone_number: Text | None = None


class CustomerNode(_Node):
    id: Text | None = None
    first_name: Text | None = None
    last_name: Text | None = None
    default_email_address: EmailNode | None = None
    default_phone_number: PhoneNode | None = None


class MoneyNode(_Node):
    amount: Text | None = None
    currency_code: Text | None = None


class MoneyBagNode(_Node):
    shop_money: MoneyNode | None = None


class VariantNode(_Node):
    id: Text | None = None
    sku: Text | None = None


class AttributeNode(_Node):
    key: Text
    value: Text | None = None


class LineNode(_Node):
    id: LineItemGid
    sku: Text | None = None
    name: Text | None = None
    quantity: Count
    current_quantity: Count | None = Field(default=None, description="absent in older payloads: the quantity")
    variant: VariantNode | None = None
    selling_plan: NamedNode | None = None
    custom_attributes: list[AttributeNode] | None = None


class PageInfoNode(_Node):
    has_next_page: Annotated[bool, Strict()] = False
    end_cursor: Text | None = None


class LineItemsNode(_Node):
    page_info: PageInfoNode | None = None
    nodes: list[LineNode]


class OrderNode(_Node):
    id: OrderGid
    legacy_resource_id: LegacyId
    name: Text
    created_at: Moment
    updated_at: Moment
    processed_at: Moment | None = None
    cancelled_at: Moment | None = None
    cancel_reason: Text | None = None
    closed_at: Moment | None = None
    display_financial_status: Text | None = None
    display_fulfillment_status: Text | None = None
    source_name: Text | None = None
    app: NamedNode | None = None
    retail_location: IdNode | None = None
    email: Text | None = None
    phone: Text | None = None
    tags: list[Text] | None = None
    note: Text | None = None
    customer: CustomerNode | None = None
    shipping_address: AddressNode | None = None
    total_price_set: MoneyBagNode | None = None
    line_items: LineItemsNode
