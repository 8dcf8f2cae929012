"""shopsync: keeps an order-management catalog and its parent/child Shopify stores in step."""
