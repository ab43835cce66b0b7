"""Sign-in, sign-out and staff accounts."""
