"""WSGI entry point: `gunicorn wsgi:app` or `flask --app wsgi ...`."""
from referrals import create_app

app = create_app()

# `make run` (one machine) may run the reminders inside the web process; production
# runs `flask --app wsgi scheduler` as its own process and leaves SCHEDULER unset.
# Started here, not in create_app(), so tests and CLI commands never start it.
if app.config.get("SCHEDULER") == "in-process":
    from referrals import scheduler

    scheduler.start_in_process(app)
