"""Platform-neutral core of the community layer.

Nothing in this package imports aiogram, discord or an adapter: adapters depend on the core,
never the other way round (see docs/architecture.md).
"""
