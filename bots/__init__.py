"""Entry points: read Settings, build the engine, services and adapters, and run."""
