"""Catalog rules: what a product is, how identifiers compare, how Shopify products become catalog products."""
