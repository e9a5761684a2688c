"""Numerics the lessons share: grids, gradients, optimizers, schedules and loss landscapes.

Kept free of imports so that importing one submodule does not pull torch into code that never
needs it; import the submodules (`app.engine.grid`, `app.engine.optimizers`, ...) directly.
"""
