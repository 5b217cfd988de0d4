"""The Documents page and the plain rows it shows."""
