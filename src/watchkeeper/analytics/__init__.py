"""Analytics: error patterns, trends, forecasts, SLOs and reports, as pure functions over plain data."""
