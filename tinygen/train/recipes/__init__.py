"""The built-in model families: importing each module registers its recipes by name."""
