"""The coordinator's hub: team workload, the team queue, overdue first contacts,
reassignment and connectors' availability."""
