"""Matching people to offers, and the connections a connector records."""
