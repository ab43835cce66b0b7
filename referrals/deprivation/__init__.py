"""Index of Multiple Deprivation deciles by postcode, for the reports' inequalities."""
