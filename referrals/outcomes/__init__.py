"""Outcome instruments (definitions loaded from data files) and the measurements
connectors record at baseline, follow-up and closing."""
