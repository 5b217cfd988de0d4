"""The only Qt part of app/: the composition root (main.py), the engine bridge, the
progress task (file work with Cancel) and one presenter subpackage per feature. Domain
logic lives beside it, Qt-free, in app.chat, app.documents, app.translation, app.models
and app.languages."""
