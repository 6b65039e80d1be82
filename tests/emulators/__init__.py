"""In-process emulators of the chat platforms, so tests and benchmarks run without the network."""
