"""Telegram adapter on aiogram 3: commands, inline buttons, a /newevent wizard, group chats."""
