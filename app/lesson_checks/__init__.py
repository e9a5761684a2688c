"""Exercise checks for particular lessons, one module per topic; each registers its checks into
the shared table of `app.kernel.checks` when imported (see `app.kernel.check_registry`)."""
