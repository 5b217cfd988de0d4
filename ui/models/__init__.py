"""The Models page: installed files, the hub search, the loaded model and its settings."""
