"""Partner organisations: their warm handovers and their own listings (issue 15)."""
