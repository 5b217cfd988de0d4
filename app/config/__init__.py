"""Where Hearth keeps its data (paths) and the user's settings file."""
