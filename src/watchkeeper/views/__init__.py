"""What the dashboard, the API, the status page and /metrics show, read from the store once for all."""
