"""Translate text segment by segment through the engine.

Segments go in reading order, each with the previous segment and its translation as
context. Finished paragraphs are cached (keyed by the paragraph's text, the languages, the
glossary and the model), so translating again after an edit re-sends only the paragraphs
that changed. `cancel()` may be called from another thread.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from app.translation.glossary import Glossary
from app.translation.prompt import (
    TRANSLATION_SAMPLING,
    build_messages,
    clean_output,
    completion_prompt,
    instruction_texts,
    system_prompt,
)
from app.translation.replies import (
    MarkerStream,
    OnDelta,
    markup_problems,
    not_translated_warning,
    same_words,
)
from app.translation.segmenter import Segment, SegmentedText, segment_text
from app.util.instruction_echo import find_echo, follows_chat_prompts
from inference.protocol import Work
from inference.state_files import fixed_part_key
from inference.sync_client import BlockingEngine

OnProgress = Callable[[int, int, float | None], None]  # done, total, seconds left


class TranslationCancelled(Exception):
    def __init__(self, partial: str) -> None:
        super().__init__("The translation was cancelled.")
        self.partial = partial


@dataclass(frozen=True)
class Translation:
    text: str
    flags: tuple[str, ...]  # markers lost or duplicated, glossary terms not respected
    segments_sent: int  # requests that reached the model (the rest came from the cache)
    segments_total: int
    paragraphs_reused: int = 0  # paragraphs taken from the cache, unchanged since last time
    paragraphs_total: int = 0
    # Segments sent whose answer was the instructions again (left as in the source), and
    # whose answer was the source text itself: neither is a translation.
    echoed: int = 0
    untranslated: int = 0

    @property
    def warning(self) -> str:
        """A plain sentence for the user when parts were not translated; "" when all were."""
        return not_translated_warning(self.echoed, self.untranslated, self.segments_sent)

    @property
    def not_done_status(self) -> str:
        """A short status line instead of "Done." when parts were not translated (the
        warning itself is the first flag); "" when all were."""
        missing = self.echoed + self.untranslated
        if not missing:
            return ""
        return f"Not done: {missing} of {self.segments_sent} passages were not translated."


_ECHOED = "echoed"
_UNTRANSLATED = "untranslated"


@dataclass
class _Paragraph:
    texts: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    failed: bool = False  # a segment was not translated: not cached


class Translator:
    def __init__(
        self, engine: BlockingEngine, *, model_name: str = "", prompts: str = "auto"
    ) -> None:
        """`prompts`: "auto" (chat prompts for a model with its own chat template, the text
        to continue for the rest: app/util/instruction_echo.py), or "chat" / "completion"."""
        self.engine = engine
        self.model_name = model_name
        self.prompts = prompts
        self._cache: dict[str, _Paragraph] = {}
        self._cancelled = threading.Event()

    def cancel(self) -> None:
        self._cancelled.set()
        self.engine.cancel()

    def token_budget(self) -> int:
        # The prompt holds the instructions, the previous segment twice (source and
        # translation), the segment and room for its translation: a quarter each.
        return max(32, self.engine.n_ctx // 4 - 64)

    def segment(self, text: str, *, markdown: bool = True) -> SegmentedText:
        return segment_text(
            text,
            markdown=markdown,
            budget=self.token_budget(),
            count_tokens=self.engine.count_tokens,
        )

    def translate(
        self,
        text: str,
        *,
        target_lang: str,
        source_lang: str | None = None,
        glossary: Glossary | None = None,
        markdown: bool = True,
        on_delta: OnDelta | None = None,
        on_progress: OnProgress | None = None,
    ) -> Translation:
        """Translate `text`; raises TranslationCancelled (with the text so far) on cancel."""
        self._cancelled.clear()
        glossary = glossary or Glossary()
        segmented = self.segment(text, markdown=markdown)
        return self.translate_segments(
            segmented,
            target_lang=target_lang,
            source_lang=source_lang,
            glossary=glossary,
            on_delta=on_delta,
            on_progress=on_progress,
        )

    def back_translate(
        self,
        translation: str,
        *,
        source_lang: str,
        target_lang: str,
        markdown: bool = True,
        on_delta: OnDelta | None = None,
        on_progress: OnProgress | None = None,
    ) -> Translation:
        """Translate a result back to its source language to spot meaning drift."""
        return self.translate(
            translation,
            target_lang=source_lang,
            source_lang=target_lang,
            markdown=markdown,
            on_delta=on_delta,
            on_progress=on_progress,
        )

    def translate_segments(
        self,
        segmented: SegmentedText,
        *,
        target_lang: str,
        source_lang: str | None,
        glossary: Glossary,
        on_delta: OnDelta | None = None,
        on_progress: OnProgress | None = None,
    ) -> Translation:
        self._cancelled.clear()
        paragraphs = segmented.paragraphs()
        keys = {
            number: self._key(segs, source_lang, target_lang, glossary)
            for number, segs in paragraphs.items()
        }
        todo = [s for s in segmented.segments if keys[s.paragraph] not in self._cache]
        reused = sum(1 for key in keys.values() if key in self._cache)
        work_total = sum(len(s.text) for s in todo) or 1
        work_done = 0
        started = time.monotonic()
        texts: list[str] = []
        flags: list[str] = []
        sent = echoed = untranslated = 0
        previous: tuple[str, str] | None = None
        current = _Paragraph()
        emitted = 0  # parts already streamed through on_delta

        def stream_until(segment: Segment | None) -> None:
            nonlocal emitted
            while emitted < len(segmented.parts):
                part = segmented.parts[emitted]
                if part is segment:
                    return
                if isinstance(part, str) and on_delta is not None:
                    on_delta(part)
                emitted += 1

        for segment in segmented.segments:
            key = keys[segment.paragraph]
            cached = self._cache.get(key)
            stream_until(segment)
            if cached is not None:
                position = paragraphs[segment.paragraph].index(segment)
                result = cached.texts[position]
                if position == 0:
                    flags += cached.flags
                if on_delta is not None:
                    on_delta(result)
            else:
                if self._cancelled.is_set():
                    raise TranslationCancelled(self._partial(segmented, texts))
                result, problems, failure = self._translate_one(
                    segment, source_lang, target_lang, glossary, previous, on_delta
                )
                sent += int(segment.needs_model)
                echoed += failure == _ECHOED
                untranslated += failure == _UNTRANSLATED
                current.texts.append(result)
                current.flags += problems
                current.failed = current.failed or bool(failure)
                flags += problems
                # A paragraph the model did not translate is not kept: the next try (with
                # another model, say) sends it again.
                if current.failed and current_is_complete(current, paragraphs[segment.paragraph]):
                    current = _Paragraph()
                elif current_is_complete(current, paragraphs[segment.paragraph]):
                    self._cache[key] = current
                    current = _Paragraph()
                work_done += len(segment.text)
                if on_progress is not None:
                    elapsed = time.monotonic() - started
                    rate = elapsed / work_done if work_done else None
                    left = None if rate is None else rate * (work_total - work_done)
                    on_progress(len(texts) + 1, len(segmented.segments), left)
            emitted += 1
            texts.append(result)
            if segment.needs_model and result != segment.source:
                previous = (segment.source, result)  # never an untranslated example
        stream_until(None)  # the literals after the last segment
        final = segmented.join(texts)
        warning = not_translated_warning(echoed, untranslated, sent)
        return Translation(
            final,
            (warning, *flags) if warning else tuple(flags),
            sent,
            len(segmented.segments),
            reused,
            len(paragraphs),
            echoed,
            untranslated,
        )

    # ---- internals --------------------------------------------------------------------------

    def _translate_one(
        self,
        segment: Segment,
        source_lang: str | None,
        target_lang: str,
        glossary: Glossary,
        previous: tuple[str, str] | None,
        on_delta: OnDelta | None,
    ) -> tuple[str, list[str], str]:
        """(translation, problems, failure): failure is "" or why the source was kept."""
        if not segment.needs_model:
            return segment.source, [], ""
        source = segment.source
        max_tokens = 2 * self.engine.count_tokens(segment.text) + 32
        streamer = MarkerStream(segment.spans, on_delta) if on_delta else None
        if self._chat_prompts():
            messages = build_messages(
                segment.text,
                source_lang=source_lang,
                target_lang=target_lang,
                glossary=glossary.relevant(source),
                previous=previous,
            )
            reply = self.engine.chat(
                messages,
                # The system prompt (instructions, language pair, glossary) starts every
                # segment's prompt: the engine keeps its KV state (issue 13). Named by the
                # whole glossary: each segment sends only its relevant terms, and the engine
                # keeps what the segments' prompts share.
                state_key=fixed_part_key(
                    "translate", system_prompt(source_lang, target_lang, glossary)
                ),
                max_tokens=max_tokens,
                sampling=TRANSLATION_SAMPLING,
                on_delta=streamer.feed if streamer else None,
                work=Work.TRANSLATION,
            )
        else:
            prompt = completion_prompt(
                segment.text, source_lang=source_lang, target_lang=target_lang, previous=previous
            )
            reply = self.engine.complete(
                prompt.text,
                max_tokens=max_tokens,
                sampling=TRANSLATION_SAMPLING,
                stop=prompt.stop,
                on_delta=streamer.feed if streamer else None,
                work=Work.TRANSLATION,
            )
        if self._cancelled.is_set():
            raise TranslationCancelled(reply.text)
        check = find_echo(reply.text, instruction_texts(source_lang, target_lang))
        if check.is_echo:
            return source, [], _ECHOED
        cleaned = clean_output(check.text, segment.text)
        if same_words(cleaned, segment.text) and source_lang != target_lang:
            return source, [], _UNTRANSLATED
        restored = segment.restore(cleaned)
        problems = list(restored.problems)
        problems += markup_problems(segment.text, cleaned)
        problems += glossary.check(source, restored.text)
        return restored.text, problems, ""

    def _chat_prompts(self) -> bool:
        if self.prompts == "auto":
            # Test doubles and plain engines may carry no model info: chat then.
            return follows_chat_prompts(getattr(self.engine, "info", None))
        return self.prompts == "chat"

    def _key(
        self,
        segments: list[Segment],
        source_lang: str | None,
        target_lang: str,
        glossary: Glossary,
    ) -> str:
        parts = [f"{s.text}\x00{chr(1).join(s.spans)}" for s in segments]
        raw = "\x02".join(
            [*parts, source_lang or "auto", target_lang, glossary.key(), self.model_name]
        )
        return hashlib.sha256(raw.encode()).hexdigest()

    @staticmethod
    def _partial(segmented: SegmentedText, texts: list[str]) -> str:
        out: list[str] = []
        for part in segmented.parts:
            if isinstance(part, Segment):
                if part.index >= len(texts):
                    break
                out.append(texts[part.index])
            else:
                out.append(part)
        return "".join(out)


def current_is_complete(current: _Paragraph, segments: list[Segment]) -> bool:
    return len(current.texts) == len(segments)
