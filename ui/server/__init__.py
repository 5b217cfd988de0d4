"""The API server dialog (issue 14): switch, address, key, and a log of the requests served."""
