"""What runs inside the sandbox: the zygote's main, the runtime of a session kernel, its
confinement, the channel to the web process, and the exercise-check toolkit. The whole folder is
bound read-only into the sandbox; the web process's side lives in `app.supervisor`."""
