"""The /fhir API: the blueprint from http.py with the routes of api_write, api_read and
api_directory."""
from fhir_adapters import api_directory, api_read, api_write  # noqa: F401 - registers the routes
from fhir_adapters.http import bp, http_outcome

__all__ = ["bp", "http_outcome"]
