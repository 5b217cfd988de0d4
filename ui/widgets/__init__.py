"""Small widgets and GUI helpers that any page may use; they know no feature."""
