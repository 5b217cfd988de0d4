"""Languages shared by documents and translation: the offered languages and the offline
detector, and where sentences end."""
