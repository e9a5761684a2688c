"""Descent: interactive lessons that teach how machines learn."""
