"""The web page: a FastAPI app and its self-contained HTML page (package data)."""
