"""Who is speaking: online speaker clustering over voice embeddings, refined as it goes.

Speech is cut at short pauses (:mod:`.speech_segments`); each segment gets a voice
embedding and joins the nearest known speaker, or starts a new one when it is long
enough to trust and unlike everyone heard so far. A segment still going on is
labelled provisionally once 1.6 s of it is heard, so captions get a name quickly.
Every ``refine_every`` seconds of speech, all segments are re-clustered together
(average-linkage, cosine): speakers that turn out to be one voice are merged, and
recent turns that now belong elsewhere are relabelled with ``relabel`` events.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.optimize import linear_sum_assignment

from ..plugins.base import AnalyzerCapabilities
from ..plugins.voice_embedder import ResemblyzerEmbedder
from .clock import SAMPLE_RATE, to_seconds
from .prosody import measure
from .records import Record, SpeakerTurn
from .speech_segments import SpeechSegment, SpeechSegmenter


@dataclass(frozen=True)
class DiarizerSettings:
    """Decision thresholds (cosine similarity of unit embeddings)."""

    new_speaker: float = 0.55  # below this to every known speaker: a new voice
    new_speaker_seconds: float = 1.5  # a new voice needs this much speech to be believed
    provisional_seconds: float = 1.6  # label a segment in progress once this much is heard
    same_voice: float = 0.7  # refinement merges clusters at least this similar
    min_voice_seconds: float = 8.0  # a refined cluster with less speech joins its nearest…
    absorb: float = 0.6  # …if at least this similar (else it is a voice of its own)
    refine_every: float = 20.0  # seconds of new speech between refinement passes
    refine_window: int = 400  # segments re-clustered at most (older ones keep their label)
    bridge_pause: float = 0.6  # a pause this short between one speaker's segments is theirs
    max_speakers: int = 8


@dataclass
class _Segment:
    turn: SpeakerTurn
    embedding: np.ndarray | None  # None: too short to trust


class OnlineDiarizer:
    """Turns audio into speaker turns (S1, S2, …) live."""

    name = "speakers"
    capabilities = AnalyzerCapabilities(events=("speaker",), refines=True)

    def __init__(
        self,
        embedder: ResemblyzerEmbedder | None = None,
        settings: DiarizerSettings | None = None,
        *,
        start_sample: int = 0,
    ) -> None:
        self._embedder = embedder or ResemblyzerEmbedder()
        self.settings = settings or DiarizerSettings()
        self._segmenter = SpeechSegmenter(start_sample=start_sample)
        self._segments: list[_Segment] = []  # the last refine_window segments
        self._settled: dict[str, np.ndarray] = {}  # label -> weighted sum of older segments
        self._centroids: dict[str, np.ndarray] = {}  # label -> sum of embeddings
        self._labels = 0
        self._turns = 0
        self._provisional: tuple[int, str] | None = None  # (segment start, turn id)
        self._since_refine = 0.0
        self._expected = start_sample

    @property
    def speakers(self) -> list[str]:
        """Labels of the speakers heard so far."""
        return sorted(self._centroids, key=lambda s: int(s[1:]))

    def feed(self, samples: np.ndarray, start_sample: int) -> list[Record]:
        """Turns decided by this audio (16 kHz float32 starting at ``start_sample``)."""
        closed: list[SpeechSegment] = []
        if start_sample != self._expected:
            closed += self._segmenter.jump_to(start_sample)
        self._expected = start_sample + samples.size
        closed += self._segmenter.feed(samples)
        out: list[Record] = [self._close(seg) for seg in closed]
        out += self._label_open_segment()
        if self._since_refine >= self.settings.refine_every:
            out += self.refine()
        return out

    def finish(self) -> list[Record]:
        """Close the last segment and refine once more."""
        out: list[Record] = [self._close(seg) for seg in self._segmenter.finish()]
        return out + self.refine()

    def _label_open_segment(self) -> list[Record]:
        segment = self._segmenter.open_segment
        if segment is None or segment.seconds < self.settings.provisional_seconds:
            return []
        if self._provisional is not None and self._provisional[0] == segment.start:
            return []
        speaker, _ = self._nearest(self._embedder.embed(segment.audio))
        turn_id = self._next_turn_id()
        self._provisional = (segment.start, turn_id)
        if speaker is None:
            speaker = f"S{self._labels + 1}"  # a voice not heard before, it seems
        return [self._turn(turn_id, speaker, segment, final=False)]

    def _close(self, segment: SpeechSegment) -> SpeakerTurn:
        s = self.settings
        turn_id = (
            self._provisional[1]
            if self._provisional is not None and self._provisional[0] == segment.start
            else self._next_turn_id()
        )
        self._provisional = None
        trusted = segment.seconds >= self._embedder.capabilities.min_seconds
        embedding = self._embedder.embed(segment.audio)
        speaker, similarity = self._nearest(embedding)
        new_voice = speaker is None or (
            similarity < s.new_speaker
            and segment.seconds >= s.new_speaker_seconds
            and len(self._centroids) < s.max_speakers
        )
        if new_voice:
            self._labels += 1
            speaker = f"S{self._labels}"
            self._centroids[speaker] = np.zeros_like(embedding)
        assert speaker is not None
        if trusted or new_voice:
            self._centroids[speaker] = self._centroids[speaker] + embedding * segment.seconds
            self._since_refine += segment.seconds
        turn = self._turn(turn_id, speaker, segment, final=True, prosody=True)
        if self._segments:  # a breath inside one person's turn is still their turn
            last = self._segments[-1].turn
            if last.speaker == speaker and 0 < turn.start - last.end <= s.bridge_pause:
                turn = replace(turn, start=last.end)
        self._segments.append(_Segment(turn, embedding if trusted else None))
        if len(self._segments) > self.settings.refine_window:  # its label is settled now
            self._settle(self._segments.pop(0))
        return turn

    def _settle(self, seg: _Segment) -> None:
        """Fold a segment older than refining reaches into its speaker's fixed sum."""
        if seg.embedding is not None:
            label, weight = seg.turn.speaker, seg.turn.end - seg.turn.start
            self._settled[label] = self._settled.get(label, 0) + seg.embedding * weight

    def refine(self) -> list[SpeakerTurn]:
        """Re-cluster the recent segments together; relabel turns that moved."""
        self._since_refine = 0.0
        recent = self._segments[-self.settings.refine_window :]
        usable = [seg for seg in recent if seg.embedding is not None]
        if len(usable) < 3:
            return []
        vectors = np.stack([seg.embedding for seg in usable])
        tree = linkage(vectors, method="average", metric="cosine")
        clusters = fcluster(tree, t=1.0 - self.settings.same_voice, criterion="distance")
        clusters = self._absorb_small(usable, vectors, clusters)
        mapping = self._name_clusters(usable, clusters)
        moved: list[SpeakerTurn] = []
        for seg, cluster in zip(usable, clusters, strict=True):
            label = mapping[int(cluster)]
            if label != seg.turn.speaker:
                seg.turn = replace(seg.turn, speaker=label, relabel=True)
                moved.append(seg.turn)
        self._rebuild_centroids()
        for seg in recent:
            if seg.embedding is None and self._centroids:
                label, _ = self._nearest(self._embedder_free_vector(seg))
                if label is not None and label != seg.turn.speaker:
                    seg.turn = replace(seg.turn, speaker=label, relabel=True)
                    moved.append(seg.turn)
        return sorted(moved, key=lambda t: t.start)

    def _absorb_small(
        self, segments: list[_Segment], vectors: np.ndarray, clusters: np.ndarray
    ) -> np.ndarray:
        """Fold clusters with little speech into the most similar substantial one.

        One person's raised voice or a short aside can drift off into a cluster of
        its own; a real new voice keeps talking and comes back once it has enough.
        """
        seconds = np.array([seg.turn.end - seg.turn.start for seg in segments])
        totals = {int(c): float(seconds[clusters == c].sum()) for c in set(clusters)}
        big = [c for c, total in totals.items() if total >= self.settings.min_voice_seconds]
        if not big:
            return clusters
        means = {c: _unit(vectors[clusters == c].mean(axis=0)) for c in totals}
        out = clusters.copy()
        for cluster, total in totals.items():
            if total >= self.settings.min_voice_seconds:
                continue
            nearest = max(big, key=lambda c: float(means[cluster] @ means[c]))
            if float(means[cluster] @ means[nearest]) >= self.settings.absorb:
                out[clusters == cluster] = nearest
        return out

    def _embedder_free_vector(self, seg: _Segment) -> np.ndarray:
        """A short segment keeps its label unless its speaker no longer exists."""
        if seg.turn.speaker in self._centroids:
            return self._centroids[seg.turn.speaker]
        return np.mean(list(self._centroids.values()), axis=0)

    def _name_clusters(self, segments: list[_Segment], clusters: np.ndarray) -> dict[int, str]:
        """Give each cluster the existing label it shares most speech with."""
        ids = sorted(set(int(c) for c in clusters))
        labels = sorted({seg.turn.speaker for seg in segments}, key=lambda s: int(s[1:]))
        overlap = np.zeros((len(ids), len(labels)))
        for seg, cluster in zip(segments, clusters, strict=True):
            overlap[ids.index(int(cluster)), labels.index(seg.turn.speaker)] += (
                seg.turn.end - seg.turn.start
            )
        rows, cols = linear_sum_assignment(-overlap)
        mapping = {ids[r]: labels[c] for r, c in zip(rows, cols, strict=True)}
        for cluster in ids:  # more clusters than labels: a voice split off
            if cluster not in mapping:
                self._labels += 1
                mapping[cluster] = f"S{self._labels}"
        return mapping

    def _rebuild_centroids(self) -> None:
        centroids = dict(self._settled)
        for seg in self._segments:
            if seg.embedding is None:
                continue
            weight = seg.turn.end - seg.turn.start
            label = seg.turn.speaker
            centroids[label] = centroids.get(label, 0) + seg.embedding * weight
        self._centroids = centroids

    def _nearest(self, embedding: np.ndarray) -> tuple[str | None, float]:
        best, similarity = None, -1.0
        for label, total in self._centroids.items():
            norm = float(np.linalg.norm(total))
            if norm == 0:
                continue
            sim = float(embedding @ total) / norm
            if sim > similarity:
                best, similarity = label, sim
        return best, similarity

    def _next_turn_id(self) -> str:
        self._turns += 1
        return f"t{self._turns}"

    @staticmethod
    def _turn(
        turn_id: str, speaker: str, segment: SpeechSegment, *, final: bool, prosody: bool = False
    ) -> SpeakerTurn:
        return SpeakerTurn(
            id=turn_id,
            speaker=speaker,
            start=to_seconds(segment.start),
            end=to_seconds(segment.start) + segment.audio.size / SAMPLE_RATE,
            final=final,
            prosody=measure(segment.audio) if prosody else None,
        )


def _unit(vector: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm else vector
