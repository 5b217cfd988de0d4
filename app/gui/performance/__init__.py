"""The Performance page's presenter: loads the replies' figures off the GUI thread."""
