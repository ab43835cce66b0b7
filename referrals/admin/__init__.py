"""Administration: users, practices, teams (and API clients, later)."""
