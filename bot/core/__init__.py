"""Core value types, errors, config and clock of the bot: no I/O, no venue specifics."""
