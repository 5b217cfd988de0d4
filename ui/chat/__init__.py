"""The chat page: transcript, input, conversation list, stats line and the chat's dialogs."""
