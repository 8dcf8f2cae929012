"""The HTTP API (API Gateway REST, IAM-authorised): Powertools resolver, one router per resource."""
