"""The /fhir API: the blueprint from http.py with the routes of api_write, api_read,
api_outcomes and api_directory."""
from fhir_adapters import (  # noqa: F401 - registers the routes
    api_directory,
    api_outcomes,
    api_read,
    api_write,
)
from fhir_adapters.http import bp, http_outcome

__all__ = ["bp", "http_outcome"]
