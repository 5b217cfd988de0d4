"""Importing chats exported by other apps (ChatGPT, Open WebUI, LM Studio, Jan) as Hearth chats.

One reader module per format turns the untrusted document into plain `ForeignChat`s
(foreign_chat.py); foreign_chat.py checks the tree and makes Hearth conversations of them;
sources.py recognises a file by its content and runs the right reader (Hearth's own JSON
included). No Qt; any thread may call these.
"""
