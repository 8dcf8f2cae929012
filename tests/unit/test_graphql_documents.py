"""Every GraphQL document the code sends validates against the pinned Admin API schema.

Documents are discovered from the package folder, so a new `.graphql` file is covered without touching this test.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import graphql
import pytest

from shopsync.settings import get_settings
from shopsync.shopify.documents import document_names, load_document, render_bulk_products_export

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS_FOLDER = REPO_ROOT / "layers/shared/shopsync/shopify/documents"


@pytest.fixture(scope="module")
def schema() -> graphql.GraphQLSchema:
    version = get_settings().shopify_api_version
    sdl = (REPO_ROOT / f"schema/shopify/admin-{version}/schema.graphql").read_text(encoding="utf-8")
    return graphql.build_schema(sdl)


def _assert_valid(schema: graphql.GraphQLSchema, document: str) -> graphql.DocumentNode:
    ast = graphql.parse(document)
    errors = graphql.validate(schema, ast)
    assert not errors, "\n".join(error.message for error in errors)
    return ast


def test_every_file_in_the_folder_is_discovered() -> None:
    # Given the .graphql files on disk, when the package lists its documents, then none is missing.
    on_disk = sorted(path.stem for path in DOCUMENTS_FOLDER.glob("*.graphql"))
    assert on_disk
    assert document_names() == on_disk


@pytest.mark.parametrize("name", document_names())
def test_document_validates_against_pinned_schema(schema: graphql.GraphQLSchema, name: str) -> None:
    ast = _assert_valid(schema, load_document(name))

    # One operation per file, named like the file: the name is what the cost model and the logs key on.
    operations = [node for node in ast.definitions if isinstance(node, graphql.OperationDefinitionNode)]
    assert len(operations) == 1
    assert operations[0].name is not None
    assert operations[0].name.value == name


@pytest.mark.parametrize(
    "updated_after",
    [
        None,
        datetime(2026, 1, 2, 3, 4, 5, 678_000, tzinfo=UTC),
        datetime(2026, 1, 2, 5, 4, 5, tzinfo=timezone(timedelta(hours=2))),
    ],
)
def test_rendered_bulk_inner_query_validates_and_takes_no_variables(
    schema: graphql.GraphQLSchema, updated_after: datetime | None
) -> None:
    inner = render_bulk_products_export(updated_after)

    ast = _assert_valid(schema, inner)

    (operation,) = ast.definitions
    assert isinstance(operation, graphql.OperationDefinitionNode)
    assert not operation.variable_definitions
    products = operation.selection_set.selections[0]
    assert isinstance(products, graphql.FieldNode)
    arguments = {argument.name.value: argument.value for argument in products.arguments}
    if updated_after is None:
        assert arguments == {}
    else:
        # Rounded down to the second and converted to UTC, single-quoted inside the GraphQL string.
        search = arguments["query"]
        assert isinstance(search, graphql.StringValueNode)
        assert search.value == "updated_at:>'2026-01-02T03:04:05Z'"


def test_bulk_render_refuses_naive_datetime() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        render_bulk_products_export(datetime(2026, 1, 2))


def _variant_fields(document: str, connection_path: tuple[str, ...]) -> set[str]:
    """Dotted paths of the scalar fields selected on the variant nodes reached through `connection_path`."""
    selection: graphql.SelectionSetNode | None = next(
        node for node in graphql.parse(document).definitions if isinstance(node, graphql.OperationDefinitionNode)
    ).selection_set
    for step in connection_path:
        assert selection is not None
        selection = next(
            field.selection_set
            for field in selection.selections
            if isinstance(field, graphql.FieldNode) and field.name.value == step
        )

    def leaves(selection_set: graphql.SelectionSetNode, prefix: str) -> set[str]:
        found: set[str] = set()
        for field in selection_set.selections:
            assert isinstance(field, graphql.FieldNode)
            path = prefix + field.name.value
            found |= leaves(field.selection_set, path + ".") if field.selection_set else {path}
        return found

    assert selection is not None
    return leaves(selection, "")


def test_variant_selection_is_the_same_in_every_product_document() -> None:
    # The product import maps page nodes and bulk objects with the same code; the fields must not drift apart.
    page = _variant_fields(load_document("ProductsPage"), ("products", "nodes", "variants", "nodes"))
    rest = _variant_fields(load_document("ProductVariantsOfProduct"), ("product", "variants", "nodes"))
    bulk = _variant_fields(render_bulk_products_export(), ("products", "edges", "node", "variants", "edges", "node"))
    assert page == rest == bulk
    assert {"sku", "barcode", "inventoryPolicy", "inventoryItem.id", "inventoryItem.tracked"} <= page
