"""Models page presenters: installed, hub, downloads, the loaded model and its settings."""
