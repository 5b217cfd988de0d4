"""Local translation: language list, detection, segmentation, glossary, translator, files.

Nothing here imports Qt; the panel in ui/translation/panel.py is wired to it by the app.
"""
