"""Synthetic data at the tiers of shared/reference/scale-and-speed.md §A4, for the
reports, the benchmarks and the performance work: `flask --app wsgi generate-data`.

- tiers.py: the sizes (pcn, county).
- places.py: postcode districts with IMD deciles (PostcodeDeprivation), practices in
  PCNs with list sizes, the hub, its staff and the GP system's API client.
- directory.py: organisations, venues and offers in Kindly's categories.
- people.py: the people referred (sex, age, ethnic category, postcode).
- journeys.py: each referral's story, planned by the rules of the state machine.
- records.py: the rows that story leaves (events, versions, casework, audit).
- writer.py: SQLAlchemy Core bulk inserts, batch by batch, ids handed out up front.
- build.py: the whole run (write_stories: the referrals one after another, which also
  writes the demo's history for its own practices: referrals/demo_history.py);
  cli.py: the command.

Reproducible: everything comes from one random.Random(seed) and the day given, never
from the clock or uuid4. A run's "now" is midday UK time on `--today` (default: the last
midday that has passed) and nothing generated happens after it. Only secrets differ between
runs: the one password hash all generated accounts share, their session tokens and the
API client's token hash.

Outcome letters: none are generated (no OutcomeLetter rows). A letter row needs its real
PDF, and rendering tens of thousands would take longer than the rest of the run; a
referral closed in generated data simply has no letter yet. Audit events: every change
the services would audit (create, accept, contacts, follow-ups, connections, measures,
closing) with `--audit` (the default); reads are not generated: they are most of the
~30 per referral in §A4 and would multiply the county run's rows and time for tables no
report reads.
"""
