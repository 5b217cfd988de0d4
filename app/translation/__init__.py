"""Local translation: segmentation, glossary, translator, files (languages: app.languages).

Nothing here imports Qt; the panel in ui/translation/panel.py is wired to it by the app.
"""
