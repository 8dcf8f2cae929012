"""Pydantic domain models shared by handlers, domain code and the data-access layer."""
