"""Renderers that need no platform library. Platform renderers live in their adapters."""
