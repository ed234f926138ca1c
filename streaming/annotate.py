"""Joins the engines' streams: speakers onto captions, tone from turns and their words.

Captions, speaker turns and sounds come from separate engines at their own pace.
The annotator sits where events leave the pipeline. A caption gets the speaker
whose turns overlap its words most. When a turn is decided or relabelled later,
recent final captions whose speaker changes are published again (same id), so
every screen and the session store follow. A final turn is judged for tone once
final captions have caught up with its end.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import replace

from .records import Caption, EmotionFlag, Record, SpeakerTurn
from .tone import ToneTracker

_KEEP_SECONDS = 180.0  # how far back turns and captions are kept for relabelling


class Annotator:
    """Adds speakers to captions and emits tone flags; returns what to publish."""

    def __init__(self, tone: ToneTracker | None = None) -> None:
        self._tone = tone
        self._turns: OrderedDict[str, SpeakerTurn] = OrderedDict()
        self._finals: OrderedDict[str, Caption] = OrderedDict()
        self._waiting: list[SpeakerTurn] = []  # final turns whose words are not final yet
        self._flags: OrderedDict[str, EmotionFlag] = OrderedDict()  # by turn id
        self._caption_end = 0.0  # end of the latest final caption

    def on_record(self, record: Record) -> list[Record]:
        """``record`` as it should be published, plus anything it changes."""
        if isinstance(record, Caption):
            return self._on_caption(record)
        if isinstance(record, SpeakerTurn):
            return self._on_turn(record)
        return [record]

    def finish(self) -> list[Record]:
        """Judge the turns still waiting at the end of the input."""
        return self._judge(until=float("inf"), emitted=None)

    def speaker_at(self, start: float, end: float) -> str | None:
        """The speaker with the most speech between ``start`` and ``end``."""
        totals: dict[str, float] = {}
        for turn in self._turns.values():
            overlap = min(end, turn.end) - max(start, turn.start)
            if overlap > 0 or (start == end and turn.start <= start <= turn.end):
                totals[turn.speaker] = totals.get(turn.speaker, 0.0) + max(overlap, 1e-6)
        return max(totals, key=totals.__getitem__) if totals else None

    def _on_caption(self, caption: Caption) -> list[Record]:
        labelled = replace(caption, speaker=self._caption_speaker(caption))
        out: list[Record] = [labelled]
        if caption.final:
            self._finals[caption.id] = labelled
            self._finals.move_to_end(caption.id)
            self._caption_end = max(self._caption_end, caption.end)
            self._forget(before=caption.end - _KEEP_SECONDS)
            out += self._judge(until=self._caption_end, emitted=caption.emitted)
        return out

    def _on_turn(self, turn: SpeakerTurn) -> list[Record]:
        self._turns[turn.id] = turn
        out: list[Record] = [turn]
        for caption in list(self._finals.values()):
            if caption.end < turn.start or caption.start > turn.end:
                continue
            speaker = self._caption_speaker(caption)
            if speaker != caption.speaker:
                updated = replace(caption, speaker=speaker, emitted=turn.emitted)
                self._finals[caption.id] = updated
                out.append(updated)
        flag = self._flags.get(turn.id)
        if flag is not None and flag.speaker != turn.speaker:  # the flag follows its turn
            self._flags[turn.id] = replace(flag, speaker=turn.speaker, emitted=turn.emitted)
            out.append(self._flags[turn.id])
        if turn.final and not turn.relabel and self._tone is not None:
            self._waiting.append(turn)
            out += self._judge(until=self._caption_end, emitted=turn.emitted)
        return out

    def _judge(self, until: float, emitted: float | None) -> list[Record]:
        if self._tone is None:
            return []
        ready = [t for t in self._waiting if t.end <= until]
        self._waiting = [t for t in self._waiting if t.end > until]
        flags: list[Record] = []
        for turn in ready:
            latest = self._turns.get(turn.id, turn)
            flag: EmotionFlag | None = self._tone.judge(latest, list(self._finals.values()))
            if flag is not None:
                stamp = emitted if emitted is not None else latest.emitted
                self._flags[turn.id] = replace(flag, emitted=stamp)
                flags.append(self._flags[turn.id])
        return flags

    def _caption_speaker(self, caption: Caption) -> str | None:
        if not caption.words:
            return caption.speaker
        return self.speaker_at(caption.start, caption.end) or caption.speaker

    def _forget(self, before: float) -> None:
        for store in (self._turns, self._finals, self._flags):
            while store:
                first = next(iter(store.values()))
                if first.end >= before:
                    break
                store.popitem(last=False)
