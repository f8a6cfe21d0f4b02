"""Demo data generation and CRM bundle import/export (`python -m seed --help`)."""
