"""The bundled demo target and its example config."""
