"""One Cog per feature; each slash command feeds the same /command text to the core."""
