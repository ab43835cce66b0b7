"""Notifications: in-app messages for staff, and email when SMTP is configured."""
