"""The HTTP interface served by ``watchkeeper serve``."""
