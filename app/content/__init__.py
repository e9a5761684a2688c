"""Lessons: their typed model, the Markdown loader and the HTML rendering."""
