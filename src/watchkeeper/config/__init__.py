"""Reading and validating ``watchkeeper.yaml``: schema, loader, schedules, expressions."""
