"""The window-wide dialogs (issue 15): Settings, About, Keyboard shortcuts."""
