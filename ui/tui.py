"""The terminal face: live captions, speakers, questions and export, keyboard first.

``roomtone tui --replay FILE`` and ``roomtone live --mic --tui`` show a meeting as it is
heard; ``roomtone tui --session DB`` reopens a past one read-only. Captions are the
assistant's lines (speaker turns, names, tone flags, sounds); words not yet final show
dimmed under them. Keys: ``?`` help, ``a`` ask, ``m`` what did I miss, ``/`` search,
``r`` rename, ``w`` who is here, ``p`` pause scrolling, ``e`` export, ``j`` go to the last
answer's moment, ``q`` quit.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from rich.markup import escape
from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Header, Input, Label, ListItem, ListView, Static

from ..assistant.transcript import Line, Transcript
from ..streaming.clock import format_clock

# Distinct speaker colours, readable on a dark terminal (the BBC's four first).
SPEAKER_COLOURS = ("white", "yellow", "cyan", "green", "magenta", "orange1", "sky_blue1", "pink1")
REFRESH_S = 0.3
_CLOCK = re.compile(r"\[(\d{1,2}:\d{2}(?::\d{2})?)\]")

Asker = Callable[[str, float | None, Callable[[str], None]], Any]
Capture = Callable[[Callable[[dict[str, Any]], None], asyncio.Event], Awaitable[Any]]


@dataclass
class TuiSession:
    """What the TUI shows and what it may do."""

    title: str
    live: bool
    ask: Asker | None = None  # answers a question (question, since, on_text) -> Answer
    # Each keeps its event in the session and returns it (None when read-only):
    rename: Callable[[str, str], dict[str, Any]] | None = None  # label, name
    people: Callable[[str], dict[str, Any]] | None = None  # "Kevin, Laura, Malik"
    export: Callable[[Path], Path] | None = None  # writes markdown minutes to a folder
    export_dir: Path = Path()


def seconds_of(clock: str) -> float:
    """Seconds from a clock like 01:03 or 1:01:03."""
    total = 0.0
    for part in clock.split(":"):
        total = total * 60 + int(part)
    return total


class HelpScreen(ModalScreen[None]):
    """Every key, one screen."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q,question_mark", "dismiss", "Close")]
    KEYS = (
        ("?", "this help"),
        ("a", "ask a question about the meeting (Enter sends)"),
        ("m", "what did I miss? (since you paused or searched)"),
        ("/", "search the captions (Esc clears)"),
        ("r", "rename the speaker selected in the legend (Tab to the legend first)"),
        ("w", "who is here: the meeting's people, names spelled their way"),
        ("p", "pause / resume scrolling"),
        ("j", "go to the moment the last answer cites"),
        ("e", "export the minutes as markdown"),
        ("Tab", "move between legend, captions and the ask box"),
        ("q", "quit (everything heard is already saved)"),
    )

    def compose(self) -> ComposeResult:
        """The keys."""
        rows = "\n".join(f"[b]{key:>5}[/b]  {what}" for key, what in self.KEYS)
        yield Static(f"[b]roomtone keys[/b]\n\n{rows}\n\nEsc closes this help.", id="help")


class PromptScreen(ModalScreen[str | None]):
    """Ask for one line of text (a speaker's name, the meeting's people)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, prompt: str, max_length: int, value: str = "") -> None:
        super().__init__()
        self.prompt, self.max_length, self.value = prompt, max_length, value

    def compose(self) -> ComposeResult:
        """A prompt and an input."""
        with Vertical(id="prompt-box"):
            yield Label(f"{self.prompt} (Enter to keep, Esc to cancel):")
            yield Input(self.value, id="prompt-input", max_length=self.max_length)

    @on(Input.Submitted, "#prompt-input")
    def _done(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)


class CaptionApp(App[None]):
    """Captions, legend, ask box."""

    TITLE = "roomtone"
    CSS = """
    #main { height: 1fr; }
    #legend-box { width: 28; border-right: solid $primary; }
    #legend { height: 1fr; }
    #captions { height: 1fr; padding: 0 1; }
    #pending { color: $text-muted; text-style: italic; padding: 0 1; }
    .line { margin-bottom: 1; }
    .sound { color: $text-muted; text-style: italic; }
    .hidden { display: none; }
    .found { background: $boost; text-style: bold; }
    #answer { height: auto; max-height: 12; padding: 0 1; border-top: solid $primary; }
    #search { display: none; }
    #search.shown { display: block; }
    #help, #prompt-box { width: 70; height: auto; padding: 1 2; background: $panel;
        border: thick $primary; }
    HelpScreen, PromptScreen { align: center middle; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("question_mark,f1", "help", "Help"),
        Binding("a", "ask", "Ask"),
        Binding("m", "missed", "What did I miss?"),
        Binding("slash", "search", "Search"),
        Binding("r", "rename", "Rename"),
        Binding("w", "people", "Who is here"),
        Binding("p", "pause", "Pause"),
        Binding("j", "jump_cited", "Go to cited", show=False),
        Binding("e", "export", "Export"),
        Binding("q", "quit", "Quit"),
        Binding("escape", "clear", "Back", show=False),
    ]

    def __init__(self, session: TuiSession, capture: Capture | None = None) -> None:
        super().__init__()
        self.session = session
        self.capture = capture
        self.transcript = Transcript()
        self.partials: dict[str, dict[str, Any]] = {}
        self.colours: dict[str, str] = {}
        self.paused = False
        self.away_since: float | None = None
        self.last_cited: float | None = None
        self.last_answer: str | None = None
        self.capture_result: Any = None
        self.stop = asyncio.Event()
        self._dirty = False
        self._shown: list[Line] = []
        self._origin: float | None = None
        self._legend: dict[str, Label] = {}  # speaker label -> its entry in the legend

    # ---- layout --------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        """Legend left, captions right, the answer and the ask box below."""
        yield Header(show_clock=True)
        with Horizontal(id="main"):
            with Vertical(id="legend-box"):
                yield Label("[b]Speakers[/b]")
                yield ListView(id="legend")
            with Vertical():
                yield Input(placeholder="search the captions", id="search")
                yield VerticalScroll(id="captions", can_focus=True)
                yield Static("", id="pending")
        yield Static("", id="answer")
        yield Input(placeholder="ask about the meeting, e.g. who agreed to fix the bugs?", id="ask")
        yield Footer()

    def on_mount(self) -> None:
        """Start refreshing, and the capture if there is one."""
        self.title = self.session.title
        self.sub_title = "live" if self.session.live else "past meeting (read-only)"
        self.set_interval(REFRESH_S, self._refresh)
        if self.capture is not None:
            self._run_capture()

    @work(exclusive=True, group="capture")
    async def _run_capture(self) -> None:
        self.capture_result = await self.capture(self.take_event, self.stop)
        self.sub_title = "the meeting ended" if self.session.live else self.sub_title

    # ---- events ----------------------------------------------------------------------
    def take_event(self, event: dict[str, Any]) -> None:
        """A pipeline listener: take one event (cheap; the screen catches up in a moment)."""
        kind = event.get("type")
        if kind == "caption":
            if event.get("final"):
                self.partials.pop(str(event["id"]), None)
            elif event.get("words"):
                self.partials[str(event["id"])] = event
        emitted = event.get("emitted")
        if self._origin is None and self.session.live and isinstance(emitted, int | float):
            self._origin = time.monotonic() - float(emitted)
        if kind == "caption" and self._origin is not None and event.get("end"):
            delay = time.monotonic() - self._origin - float(event["end"])
            self.sub_title = f"live · caption delay {max(0.0, delay):.1f} s"
        self.transcript.add(event)
        self._dirty = True

    def load(self, events: list[dict[str, Any]]) -> None:
        """A past session's events, all at once."""
        for event in events:
            self.take_event(event)

    def colour(self, label: str | None) -> str:
        """A colour no other speaker has (past eight, a hue of its own)."""
        if not label:
            return "grey70"
        if label not in self.colours:
            n = len(self.colours)
            hue = f"rgb({(n * 97) % 200 + 55},{(n * 57) % 200 + 55},{(n * 31) % 200 + 55})"
            self.colours[label] = SPEAKER_COLOURS[n] if n < len(SPEAKER_COLOURS) else hue
        return self.colours[label]

    def render_line(self, line: Line) -> str:
        """One caption line as Rich markup."""
        stamp = f"[dim][{format_clock(line.start)}][/dim]"
        if line.sound:
            return f"{stamp} [i]{escape(line.text)}[/i]"
        who = escape(line.speaker or "Someone")
        tone = f" [i]({escape(line.tone)})[/i]" if line.tone else ""
        return f"{stamp} [b {self.colour(line.label)}]{who}:[/]{tone} {escape(line.text)}"

    def _refresh(self) -> None:
        if not self._dirty:
            return
        self._dirty = False
        lines = self.transcript.lines()
        box = self.query_one("#captions", VerticalScroll)
        following = box.scroll_offset.y >= box.max_scroll_y - 1
        widgets = list(box.query(".line").results(Static))
        for i, line in enumerate(lines):
            if i < len(self._shown) and self._shown[i] == line:
                continue
            classes = "line sound" if line.sound else "line"
            if i < len(widgets):
                widgets[i].update(self.render_line(line))
                widgets[i].set_classes(classes)
            else:
                widget = Static(self.render_line(line), classes=classes)
                widget.start = line.start  # type: ignore[attr-defined]
                box.mount(widget)
                widgets.append(widget)
            widgets[i].start = line.start  # type: ignore[attr-defined]
            self._apply_search(widgets[i], line)
        for widget in widgets[len(lines) :]:
            widget.remove()
        self._shown = lines
        self._show_pending()
        self._update_legend(lines)
        if following and not self.paused:
            box.scroll_end(animate=False)

    def _show_pending(self) -> None:
        pending = sorted(self.partials.values(), key=lambda e: e["start"])
        text = " ".join(escape(e["text"]) for e in pending)
        self.query_one("#pending", Static).update(f"… {text}" if text else "")

    def _update_legend(self, lines: list[Line]) -> None:
        legend = self.query_one("#legend", ListView)
        names = {line.label: line.speaker for line in lines if line.label}  # as the lines show
        for line in lines:
            if line.label and line.label not in self._legend:
                self._legend[line.label] = Label("")
                legend.append(ListItem(self._legend[line.label], name=line.label))
        for label, widget in self._legend.items():
            name = names.get(label, label)
            aside = f" [dim]({label})[/dim]" if name != label else ""
            widget.update(f"[b {self.colour(label)}]{escape(name)}[/]{aside}")

    # ---- search ----------------------------------------------------------------------
    def _term(self) -> str:
        search = self.query_one("#search", Input)
        return search.value.strip().lower() if search.has_class("shown") else ""

    def _apply_search(self, widget: Static, line: Line) -> None:
        term = self._term()
        widget.set_class(bool(term) and term not in line.render().lower(), "hidden")

    def action_search(self) -> None:
        """Show the search box."""
        search = self.query_one("#search", Input)
        search.add_class("shown")
        search.focus()

    @on(Input.Changed, "#search")
    def _search_changed(self) -> None:
        widgets = list(self.query_one("#captions").query(".line").results(Static))
        for widget, line in zip(widgets, self._shown, strict=False):
            self._apply_search(widget, line)

    def action_clear(self) -> None:
        """Leave the search (all captions again) and go back to the captions."""
        search = self.query_one("#search", Input)
        search.value = ""
        search.remove_class("shown")
        self._search_changed()
        self.query_one("#captions").focus()

    # ---- reading -------------------------------------------------------------------
    def action_pause(self) -> None:
        """Pause or resume following the newest captions."""
        self.paused = not self.paused
        if self.paused:
            self.away_since = self.away_since or self.transcript.heard_until
        else:
            self.query_one("#captions", VerticalScroll).scroll_end(animate=False)
        self.notify("scrolling paused" if self.paused else "scrolling resumed")

    def jump(self, seconds: float) -> None:
        """Scroll to the line that holds the moment ``seconds``."""
        box = self.query_one("#captions", VerticalScroll)
        target = None
        for widget in box.query(".line").results(Static):
            if widget.start <= seconds + 0.5:  # type: ignore[attr-defined]
                target = widget
        if target is None:
            return
        self.paused = True
        box.scroll_to_widget(target, animate=False, top=True)
        target.add_class("found")

    def action_jump(self, seconds: float) -> None:
        """A citation clicked in an answer."""
        self.jump(float(seconds))

    def action_jump_cited(self) -> None:
        """Go to the moment the last answer cites."""
        if self.last_cited is None:
            self.notify("no answer with a citation yet")
            return
        self.jump(self.last_cited)

    # ---- asking ------------------------------------------------------------------------
    def action_ask(self) -> None:
        """Go to the ask box."""
        self.query_one("#ask", Input).focus()

    def action_missed(self) -> None:
        """Catch up: since the reader paused, else the last five minutes."""
        heard = self.transcript.heard_until
        since = self.away_since if self.away_since is not None else max(0.0, heard - 300.0)
        self.away_since = None
        self._ask("What did I miss?", float(int(since)))

    @on(Input.Submitted, "#ask")
    def _submitted(self, event: Input.Submitted) -> None:
        question = event.value.strip()
        event.input.value = ""
        if question:
            self._ask(question, None)

    def _ask(self, question: str, since: float | None) -> None:
        answer = self.query_one("#answer", Static)
        if self.session.ask is None:
            answer.update("The assistant is off (start with --assistant, needs roomtone[llm]).")
            return
        when = f" (since {format_clock(since)})" if since is not None else ""
        self.last_answer = None
        answer.update(f"[b]{escape(question)}{when}[/b]\nthinking…")
        self._answer(question, since)

    @work(exclusive=True, group="ask", thread=True)
    def _answer(self, question: str, since: float | None) -> None:
        written: list[str] = []
        head = f"[b]{escape(question)}[/b]\n"

        def on_text(piece: str) -> None:
            written.append(piece)
            self.call_from_thread(self._show_partial, head + escape("".join(written)))

        try:
            result = self.session.ask(question, since, on_text)  # type: ignore[misc]
            text = result.text
        except ValueError as exc:
            text = f"Cannot answer: {exc}"
        self.call_from_thread(self._show_answer, head, text)

    def _show_partial(self, markup: str) -> None:
        self.query_one("#answer", Static).update(markup)

    def _show_answer(self, head: str, text: str) -> None:
        self.last_answer = text
        cited = [seconds_of(m.group(1)) for m in _CLOCK.finditer(text)]
        self.last_cited = cited[0] if cited else None

        def link(m: re.Match[str]) -> str:
            return f"[@click=app.jump({seconds_of(m.group(1))})]{escape(m.group(0))}[/]"

        parts, last = [], 0
        for m in _CLOCK.finditer(text):
            parts.append(escape(text[last : m.start()]) + link(m))
            last = m.end()
        parts.append(escape(text[last:]))
        self.query_one("#answer", Static).update(head + "".join(parts))

    # ---- speakers and export -------------------------------------------------------------
    def action_rename(self) -> None:
        """Rename the speaker selected in the legend."""
        if self.session.rename is None:
            self.notify("a past meeting is read-only here (use `roomtone rename`)")
            return
        legend = self.query_one("#legend", ListView)
        item = legend.highlighted_child
        if item is None or not item.name:
            self.notify("select a speaker in the legend first (Tab, arrows)")
            return
        label = item.name

        def renamed(name: str | None) -> None:
            if not name:
                return
            event = self._keep(lambda: self.session.rename(label, name))  # type: ignore[misc]
            if event is not None:
                self.notify(f"{label} is now {event['name']}")

        self.push_screen(PromptScreen(f"New name for {label}", 40), renamed)

    def action_people(self) -> None:
        """Say who is in the meeting: names heard close to theirs are written their way."""
        if self.session.people is None:
            self.notify("a past meeting is read-only here (use `roomtone people`)")
            return

        def given(names: str | None) -> None:
            if not names:
                return
            event = self._keep(lambda: self.session.people(names))  # type: ignore[misc]
            if event is not None:
                self.notify(f"in the meeting: {', '.join(event['names'])}")

        now = ", ".join(self.transcript.people)
        self.push_screen(PromptScreen("Who is here? Names, with commas", 1000, now), given)

    def _keep(self, store: Callable[[], dict[str, Any]]) -> dict[str, Any] | None:
        """Keep an event in the session (``store`` writes and returns it) and show it.

        The event kept, or None where ``store`` refused it (the reason is shown).
        """
        try:
            event = store()
        except ValueError as exc:
            self.notify(str(exc), severity="error")
            return None
        self.take_event(event)
        return event

    def action_export(self) -> None:
        """Write the meeting as markdown."""
        if self.session.export is None:
            self.notify("nothing to export yet")
            return
        try:
            path = self.session.export(self.session.export_dir)
        except (OSError, ValueError) as exc:
            self.notify(f"export failed: {exc}", severity="error")
            return
        self.notify(f"exported to {path}")

    def action_help(self) -> None:
        """Show every key."""
        self.push_screen(HelpScreen())

    async def action_quit(self) -> None:
        """End the capture (what was heard is saved) and leave."""
        self.stop.set()
        if self.capture is not None:
            await self.workers.wait_for_complete()
        self.exit()
