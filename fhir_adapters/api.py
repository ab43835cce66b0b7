"""The /fhir API: the blueprint from http.py with the routes of api_write and api_read."""
from fhir_adapters import api_read, api_write  # noqa: F401 - importing registers the routes
from fhir_adapters.http import bp, http_outcome

__all__ = ["bp", "http_outcome"]
