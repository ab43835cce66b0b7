"""Kindly's benchmarks: `python -m bench` (see bench/README.md).

Every figure is reported against a floor measured in the same process and run
(json.dumps of the same dicts, raw SQL for the same rows), so the ratios carry
across machines even when the milliseconds do not.
"""

# Production refuses to start without a mail host (invitations and password resets go by
# email), so the bench names one that can never resolve (.invalid): nothing it measures
# sends mail, and NOTIFICATIONS_IN_APP_ONLY keeps the scheduler's reminders in-app.
BENCH_MAIL = {"SMTP_HOST": "smtp.invalid", "MAIL_FROM": "bench@kindly.invalid"}
