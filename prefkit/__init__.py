"""Plain-Python helpers shared by the webapp, the exporters and the diagnostics (no Django)."""
