"""Plot kinds. Each kind has two halves kept side by side: `evaluate` runs in the learner's
kernel and returns numbers; `figure` and `patch` run in the web process and turn those numbers
into a whole plotly figure (once) or a small restyle (per slider move)."""
