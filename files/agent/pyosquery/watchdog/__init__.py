"""The watchdog: a small watcher process that runs the daemon's worker and keeps it within limits.

The watcher imports no SQL engine: it reads its children through /proc, so its own cost stays
near nothing. `limits` is the level table as data, `meter` the per-process CPU and memory check,
`watcher` the loop, `children` starting and stopping processes, `extensions` the autoloaded
extensions, and `worker` what the worker side needs (watcher-death check, the state it serves).
"""
