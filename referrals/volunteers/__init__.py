"""Volunteers (issue 15): "how can you help?", a coordinator's checks and approval, DBS
renewals, and the volunteer's own page."""
