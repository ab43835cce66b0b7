"""FHIR R4 mapping (pure functions, one module per resource) and the /fhir API.

The domain never imports this package; it imports the domain.
"""
