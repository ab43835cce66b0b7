"""Staff accounts in the browser: invitations, roles, deactivation, password resets."""
