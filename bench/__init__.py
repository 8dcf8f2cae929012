"""Benchmarks that measure what matters for cost: DynamoDB requests per unit of work."""
