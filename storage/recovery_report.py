"""What is said about a damaged chat history: where it was set aside and why (RecoveryNote,
from Database.open), and how much of it came back (RecoveryReport, from storage.recovery).
Plain records with the sentences the user reads; they import no other storage module, so
database.py and recovery.py both use them without importing each other."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

RECOVERED_CHAT_TITLE = "Recovered messages"


@dataclass(frozen=True)
class RecoveryReport:
    damaged_file: Path
    conversations: int  # chats brought back, "Recovered messages" included
    messages: int  # messages brought back whole
    texts_only: int  # messages of which only the text came back (from the search index)
    #: How many messages the damaged file held. Exact (`in_file_exact`) when the search
    #: index's list of messages (one row per message) read whole or the messages table did;
    #: else a lower bound: the distinct message ids that its readable parts name (message
    #: rows, search index rows, reply statistics, links between messages). None when
    #: nothing could be read at all.
    messages_in_file: int | None
    in_file_exact: bool
    #: Whether every page of the messages table read without damage.
    complete: bool
    other_rows: int  # documents, summaries, translations and presets

    def describe(self) -> str:
        """One sentence for the user: how much came back, and where the damaged file is."""
        kept = f"the damaged file is kept at {self.damaged_file}"
        if self.messages_in_file is None:
            return f"Nothing could be recovered from the damaged database; {kept}."
        chats = f"{self.conversations} chat{'s' if self.conversations != 1 else ''}"
        plural = "s" if self.messages != 1 else ""
        whole, in_file = self.messages, self.messages_in_file
        if self.complete and not self.texts_only:
            counted = f"all {whole} message{plural}"
        elif in_file > whole:
            counted = f"{whole} of {'' if self.in_file_exact else 'at least '}{in_file} messages"
        else:
            counted = f"{whole} message{plural}"
        others = "the other " if in_file == whole + self.texts_only else ""
        texts = (
            f", and the text alone of {others}{self.texts_only}"
            f"{'' if others else ' more'} (in “{RECOVERED_CHAT_TITLE}”)"
            if self.texts_only
            else ""
        )
        return f"Recovered {counted} in {chats} from the damaged database{texts}; {kept}."


@dataclass(frozen=True)
class RecoveryNote:
    """A damaged file was set aside and a new database created; tell the user where, and
    (once recovered) what came back from it."""

    moved_to: Path
    reason: str
    #: What was recovered into the new database; None until recovery ran (Database.open
    #: only sets the file aside; the app recovers it with storage.recovery.recover).
    report: RecoveryReport | None = None

    def describe(self) -> str:
        damaged = f"The chat history was damaged ({self.reason})."
        if self.report is None:
            return f"{damaged} It was set aside at {self.moved_to}."
        return f"{damaged} {self.report.describe()}"
