"""Per-platform adapters: parse input, name the actor, call the core, render the reply."""
