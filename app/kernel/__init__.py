"""Session kernels: the sandbox that starts and confines them, the runtime inside them, and the
web-process side that supervises them. `app.kernel.sandbox` is the only code that spawns or
limits processes."""
