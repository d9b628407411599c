"""MM-Bot: the reference market-making bot and its ``mmbot`` command line."""
