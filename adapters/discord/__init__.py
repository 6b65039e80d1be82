"""Discord adapter on discord.py 2: slash commands, persistent buttons, a modal, DMs."""
