"""The connector's casework: triage queue, caseload, contacts, follow-ups and closing."""
