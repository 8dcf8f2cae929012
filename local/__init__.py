"""Embedded local stack: Shopify emulator, moto wiring, stream poller, scheduler and HTTP shim."""
