"""Connectors: the only bot code that talks to a venue, each implementing ``bot.interfaces.Venue``."""
