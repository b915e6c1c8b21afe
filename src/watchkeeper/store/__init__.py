"""Where results live: SQLAlchemy tables, batched writes, rollups and pruning."""
