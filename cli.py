"""The ``roomtone`` command line."""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from . import __version__
from .streaming.clock import format_clock

DEFAULT_DB = "roomtone.db"
DEFAULT_LLM = "qwen2.5-coder-1.5b"  # the bundled GGUF (roomtone[llm])


class CliError(Exception):
    """A problem the person at the terminal can fix; printed without a traceback."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="roomtone", description="Live meeting captions and session tools."
    )
    parser.add_argument("--version", action="version", version=f"roomtone {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    def engine_options(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--backend",
            choices=("whisper", "moss-audio", "moss-audio-remote"),
            default="whisper",
            help="whisper: the embedded CPU tier (default); moss-audio: the audio-LLM on "
            "a local checkpoint (--model DIR; a GPU); moss-audio-remote: a vLLM server "
            "(--endpoint); both need roomtone[audio-llm]",
        )
        p.add_argument(
            "--model",
            default="tiny.en",
            help="whisper: tiny.en (bundled), base, or a CTranslate2 model dir; "
            "moss-audio: a MOSS-Audio checkpoint directory",
        )
        p.add_argument(
            "--revise-model",
            default="base",
            help="whisper: the second pass's model (default: base, bundled), tiny.en, or a "
            "CTranslate2 model dir",
        )
        p.add_argument("--model-device", help="moss-audio: cuda or cpu (default: cuda if any)")
        p.add_argument("--endpoint", help="moss-audio-remote: the server's /v1 URL")
        p.add_argument(
            "--remote-model",
            default="OpenMOSS-Team/MOSS-Audio-4B-Instruct",
            help="moss-audio-remote: the model name the server serves",
        )
        p.add_argument(
            "--session",
            default=DEFAULT_DB,
            metavar="DB",
            help=f"session database to append to (default: {DEFAULT_DB})",
        )
        p.add_argument("--title", help="session title (default: from the source)")
        p.add_argument(
            "--people",
            type=_people_option,
            metavar='"NAME, NAME, ..."',
            help="who is in the meeting (an invite's names): heard names are spelled "
            "their way and a voice left over gets the name left over",
        )
        p.add_argument(
            "--keep-audio",
            action="store_true",
            help="also keep the raw audio (DB stem + .sessionN.wav) to re-process later",
        )
        p.add_argument(
            "--resume",
            action="store_true",
            help="go on with the latest session in --session after roomtone stopped "
            "(same session, same clock; the gap is noted)",
        )
        p.add_argument(
            "--events", metavar="OUT.jsonl", type=Path, help="also write every event as JSON Lines"
        )
        p.add_argument("--quiet", action="store_true", help="no captions on the terminal")
        p.add_argument("--no-speakers", action="store_true", help="no speaker labels (or tone)")
        p.add_argument("--no-sounds", action="store_true", help="no sound captions")
        p.add_argument("--no-tone", action="store_true", help="no tone flags")
        p.add_argument(
            "--assistant",
            action="store_true",
            help="keep the assistant's memory live so `roomtone ask` answers at once "
            "(needs roomtone[llm])",
        )
        p.add_argument("--llm", default=DEFAULT_LLM, help="GGUF for --assistant")
        p.add_argument("--host", default="127.0.0.1", help="where servers listen (--web, --ws)")
        p.add_argument(
            "--port", type=int, help="server port (default: 8000 for --web, 8765 for --ws)"
        )

    replay = sub.add_parser("replay", help="replay an audio file through the live pipeline")
    replay.add_argument("file", type=Path)
    pace = replay.add_mutually_exclusive_group()
    pace.add_argument("--realtime", action="store_true", help="pace at 1x (the default)")
    pace.add_argument("--fast", action="store_true", help="as fast as the pipeline goes")
    replay.add_argument("--web", action="store_true", help="serve the caption page to viewers")
    engine_options(replay)

    live = sub.add_parser("live", help="caption live audio")
    src = live.add_mutually_exclusive_group(required=True)
    src.add_argument("--mic", action="store_true", help="the local microphone")
    src.add_argument("--ws", action="store_true", help="PCM from a WebSocket client")
    src.add_argument(
        "--web", action="store_true", help="serve the caption page; a browser sends its microphone"
    )
    live.add_argument("--device", help="microphone device name or index")
    live.add_argument("--tui", action="store_true", help="show the meeting in the terminal UI")
    engine_options(live)

    tui = sub.add_parser(
        "tui",
        help="the terminal UI: replay a meeting live (--replay FILE), else reopen the "
        "latest session of --session DB read-only",
    )
    tui.add_argument("--replay", metavar="FILE", type=Path, help="replay an audio file live")
    tui.add_argument("--id", type=int, help="without --replay: session id (default: the latest)")
    tui.add_argument("--fast", action="store_true", help="with --replay: as fast as it goes")
    tui.add_argument("--export-dir", type=Path, default=Path(), help="where `e` writes the minutes")
    engine_options(tui)

    export = sub.add_parser("export", help="export a session")
    export.add_argument("session", metavar="SESSION", help="session database file")
    export.add_argument("--id", type=int, help="session id in the file (default: the latest)")
    export.add_argument("--format", choices=("md", "json", "srt", "vtt"), default="md")
    export.add_argument("-o", "--output", type=Path, help="file to write (default: stdout)")
    export.add_argument(
        "--minutes",
        action="store_true",
        help="add a summary, decisions and action items (md, json; needs roomtone[llm])",
    )
    export.add_argument("--llm", default=DEFAULT_LLM, help="language model for --minutes")

    rename = sub.add_parser("rename", help="give a speaker label a name (kept in the session)")
    rename.add_argument("session", metavar="SESSION", help="session database file")
    rename.add_argument("speaker", help="the label, e.g. S1")
    rename.add_argument("name", help="the name to show, e.g. Alice")
    rename.add_argument("--id", type=int, help="session id in the file (default: the latest)")
    people = sub.add_parser(
        "people", help="say who is in the meeting (names spelled their way; kept in the session)"
    )
    people.add_argument("session", metavar="SESSION", help="session database file")
    people.add_argument("names", type=_people_option, help='e.g. "Kevin, Laura, Malik"')
    people.add_argument("--id", type=int, help="session id in the file (default: the latest)")

    def llm_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("session", metavar="SESSION", help="session database file")
        p.add_argument("--id", type=int, help="session id in the file (default: the latest)")
        p.add_argument("--json", action="store_true", help="machine-readable output")
        p.add_argument(
            "--llm",
            default=DEFAULT_LLM,
            help="language model: qwen2.5-coder-1.5b (bundled), qwen2.5-coder-0.5b, "
            "or a .gguf path",
        )
        p.add_argument(
            "--endpoint",
            metavar="URL",
            help="an OpenAI-compatible server instead (e.g. http://127.0.0.1:8000/v1); "
            "--llm then names its model",
        )

    ask = sub.add_parser("ask", help="ask a question about a session")
    llm_options(ask)
    ask.add_argument("question")
    ask.add_argument("--since", metavar="MM:SS", help="only what was said from this time on")

    actions = sub.add_parser("actions", help="the action items of a session")
    llm_options(actions)

    serve = sub.add_parser("serve", help="reopen a past session read-only in the browser page")
    serve.add_argument("session", metavar="SESSION", help="session database file")
    serve.add_argument("--id", type=int, help="session id in the file (default: the latest)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--assistant", action="store_true", help="answer questions (roomtone[llm])")
    serve.add_argument("--llm", default=DEFAULT_LLM, help="GGUF for --assistant")

    sessions = sub.add_parser("sessions", help="list the sessions in a database")
    sessions.add_argument("session", metavar="DB", nargs="?", default=DEFAULT_DB)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``roomtone`` console command."""
    args = _parser().parse_args(argv)
    _quiet_library_logs()
    try:
        if args.command == "replay":
            return _run_capture(args, source=f"file:{args.file}")
        if args.command == "live":
            return _run_capture(args, source=_live_source(args))
        if args.command == "tui":
            if args.replay is None:
                return _tui_past(args)
            args.file, args.web, args.tui = args.replay, False, True
            return _run_capture(args, source=f"file:{args.file}")
        if args.command == "export":
            return _export(args)
        if args.command == "sessions":
            return _sessions(args)
        if args.command == "serve":
            return _serve_past(args)
        if args.command == "rename":
            return _rename(args)
        if args.command == "people":
            return _people(args)
        if args.command in ("ask", "actions"):
            return _ask(args)
    except CliError as exc:
        print(f"roomtone: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("roomtone: interrupted; everything captioned so far is saved", file=sys.stderr)
        return 130
    return 1


def _resume_point(store: Any, db: str) -> Any:
    """Where the latest session in ``db`` goes on (a clear error if it has none)."""
    from .assistant.resume import resume_point
    from .assistant.store import SessionNotFoundError

    try:
        return resume_point(store, store.latest_session())
    except SessionNotFoundError as exc:
        store.close()
        raise CliError(f"nothing to resume: {exc}") from exc


def _live_source(args: argparse.Namespace) -> str:
    """Name the live source; fills in the default port of its server."""
    if args.port is None:
        args.port = 8765 if args.ws else 8000
    if args.mic:
        return "mic"
    return f"{'web' if args.web else 'ws'}:{args.host}:{args.port}"


def _quiet_library_logs() -> None:
    """Pipecat logs at DEBUG through loguru; people want warnings only."""
    from loguru import logger

    logger.remove()
    logger.add(sys.stderr, level="WARNING")


def _open_store(path: str | Path, *, must_exist: bool) -> Any:
    from .assistant.store import SessionStore

    if must_exist and not Path(path).is_file():
        raise CliError(f"{path}: no such session database")
    try:
        return SessionStore(path)
    except (sqlite3.DatabaseError, OSError) as exc:
        raise CliError(str(exc)) from exc


def _close_capture(assistant: Any, llm: Any, recorder: Any, store: Any) -> None:
    """End a capture: the live assistant, its model, the recorder, the store.

    The model is freed here, not by the interpreter's last collection.
    """
    if assistant is not None:
        assistant.close()
    if llm is not None:
        llm.close()
    recorder.close()
    store.close()


def _run_capture(args: argparse.Namespace, source: str) -> int:
    from .assistant.session import SessionRecorder
    from .plugins.model_files import ModelNotFoundError
    from .plugins.whisper_captioner import WhisperCaptioner
    from .streaming.captioning import StreamingCaptioner
    from .streaming.room_engines import EngineChoice, build_engines
    from .streaming.sources import AudioInputError, decode_chunks

    replaying = args.command in ("replay", "tui")
    if replaying:
        # Refuse a file that cannot start decoding before any session is created.
        try:
            next(iter(decode_chunks(args.file)))
        except AudioInputError as exc:
            raise CliError(str(exc)) from exc
        except StopIteration:
            pass
    choice = EngineChoice(
        speakers=not args.no_speakers, sounds=not args.no_sounds, tone=not args.no_tone
    )
    analyzers: list[Any] = []
    annotator = None
    if args.backend == "whisper":
        try:
            recognizer = WhisperCaptioner(args.model, revise_model=args.revise_model)
            analyzers, annotator = build_engines(choice)
        except ModelNotFoundError as exc:
            raise CliError(str(exc)) from exc
        captioner: Any = StreamingCaptioner(recognizer)
        model_name = str(recognizer.model_dir)
    else:
        captioner, model_name = _audio_llm_captioner(args)
    llm = _assistant_llm(args.llm, beside_captions=True) if args.assistant else None
    store = _open_store(args.session, must_exist=False)
    point = _resume_point(store, args.session) if args.resume else None
    if point is not None:
        session_id = point.session_id
        title = store.session_info(session_id).title
    else:
        title = args.title or (args.file.stem if replaying else source)
        session_id = store.create_session(title, source, {"model": model_name})
    recorder = SessionRecorder(store, session_id, args.events, append=point is not None)
    args.start_sample = point.start_sample if point else 0
    args.id_prefix = point.id_prefix if point else ""
    if point is not None:
        notice = point.notice()
        recorder(notice)
        print(f"roomtone: resuming session {session_id}: {notice['message']}", file=sys.stderr)
    earlier = list(store.events(session_id)) if point is not None else []
    if args.people:
        people = {"type": "people", "names": args.people}
        recorder(people)
        earlier.append(people)
    args.audio_path = None
    if args.keep_audio:
        args.audio_path = Path(args.session).with_suffix(f".session{session_id}.wav")
        print(f"roomtone: keeping the raw audio in {args.audio_path}", file=sys.stderr)
    tui = getattr(args, "tui", False)
    listeners: list[Any] = [recorder] if tui else [recorder, _CaptionPrinter(not args.quiet)]
    assistant = None
    if llm is not None:
        from .assistant.live import LiveAssistant, ask_socket_path

        assistant = LiveAssistant(llm)
        for event in earlier:
            assistant(event)
        try:
            assistant.serve(ask_socket_path(args.session, session_id))
        except OSError as exc:
            _close_capture(assistant, llm, recorder, store)
            raise CliError(f"cannot open the ask socket: {exc}") from exc
        listeners.append(assistant)
    # Who answers the ask box: the live text assistant, else the audio-LLM's own session
    audio_llm = getattr(getattr(captioner, "engine", None), "session", None)
    ask = assistant.ask if assistant is not None else getattr(audio_llm, "ask", None)
    realtime = not getattr(args, "fast", False)
    web = None
    if args.web:
        from .streaming.webrtc_source import WebRTCAudioSource
        from .ui.hub import EventHub
        from .ui.web_server import MeetingView

        live_mic = args.command == "live"
        web = MeetingView(
            EventHub(store, session_id),
            store,
            session_id,
            title,
            live=True,
            audio=WebRTCAudioSource(args.start_sample) if live_mic else None,
            ask=ask,
            followers=(assistant,) if assistant is not None else (),
        )
        listeners.append(web.hub)
    print(f"roomtone: session {session_id} in {args.session} ({source})", file=sys.stderr)
    if assistant is not None:
        print(f'roomtone: ask while it runs: roomtone ask {args.session} "..."', file=sys.stderr)
    try:
        if tui:
            stats = _capture_in_tui(
                args,
                store,
                session_id,
                title,
                ask,
                earlier,
                lambda more, stop: _capture(
                    args, captioner, [*listeners, more], realtime, analyzers, annotator, web, stop
                ),
                [f for f in (assistant, web.hub if web else None) if f is not None],
            )
        else:
            stats = asyncio.run(
                _capture(args, captioner, listeners, realtime, analyzers, annotator, web)
            )
    finally:
        _close_capture(assistant, llm, recorder, store)
    finals = recorder.final_captions
    rtf = stats.cpu_seconds / stats.audio_seconds if stats.audio_seconds else 0.0
    print(
        f"roomtone: {format_clock(stats.audio_seconds)} of audio in {stats.wall_seconds:.1f} s "
        f"({'real time' if realtime else 'fast'}); {finals} final captions, "
        f"{recorder.final_words} words; CPU/audio {rtf:.2f}; session {session_id} saved "
        f"in {args.session}" + (f"; events in {args.events}" if args.events else ""),
        file=sys.stderr,
    )
    if stats.error:
        print(f"roomtone: the audio input stopped early: {stats.error}", file=sys.stderr)
        return 3
    return 0


async def _capture(
    args: argparse.Namespace,
    captioner: Any,
    listeners: list[Any],
    realtime: bool,
    analyzers: list[Any],
    annotator: Any,
    web: Any = None,
    stop: asyncio.Event | None = None,
) -> Any:
    """Run the pipeline from the chosen source until it ends or ``stop`` (or Ctrl+C)."""
    import signal

    from .streaming.pipeline import run_pipeline
    from .streaming.sources import file_frames, microphone_frames, until_stopped
    from .streaming.ws_source import WebSocketAudioSource

    frames: AsyncIterator[Any]
    if args.command in ("replay", "tui"):
        frames = file_frames(args.file, realtime=realtime, start_sample=args.start_sample)
    elif args.mic:
        device = int(args.device) if args.device and args.device.isdigit() else args.device
        frames = microphone_frames(
            device=device,
            start_sample=args.start_sample,
            on_listening=lambda name: print(
                f"roomtone: listening on {name}", file=sys.stderr, flush=True
            ),
        )
    elif args.web:
        frames = web.audio.frames()
    else:
        source = WebSocketAudioSource(args.host, args.port, args.start_sample)
        print(f"roomtone: send PCM to ws://{args.host}:{args.port}/", file=sys.stderr)
        frames = source.frames()
    if args.audio_path is not None:
        from .streaming.audio_keeper import AudioKeeper, keeping_audio

        frames = keeping_audio(frames, AudioKeeper(args.audio_path))
    server = None
    if web is not None:
        from .streaming.webrtc_source import offer_loopback_candidates
        from .ui.web_server import WebServer

        if web.audio is not None:
            offer_loopback_candidates()
        server = WebServer(web, args.host, 8000 if args.port is None else args.port)
        try:
            url = await server.start()
        except OSError as exc:
            raise CliError(f"cannot serve the page on {args.host}:{args.port}: {exc}") from exc
        _announce(server, url)
    # Ctrl+C or SIGTERM ends the input; what was heard is still finalised and saved.
    # (Under the TUI, its quit key sets ``stop``.)
    signals = (signal.SIGINT, signal.SIGTERM) if stop is None else ()
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in signals:
        loop.add_signal_handler(sig, stop.set)
    try:
        return await run_pipeline(
            until_stopped(frames, stop),
            captioner,
            listeners,
            realtime=realtime,
            analyzers=analyzers,
            annotator=annotator,
            id_prefix=args.id_prefix,
        )
    finally:
        for sig in signals:
            loop.remove_signal_handler(sig)
        if server is not None:
            await server.stop()
        if web is not None and web.audio is not None:
            await web.audio.close()


def _capture_in_tui(
    args: argparse.Namespace,
    store: Any,
    session_id: int,
    title: str,
    ask: Any,
    earlier: list[dict[str, Any]],
    capture: Any,
    followers: list[Any],
) -> Any:
    """Run the capture inside the terminal UI; returns the pipeline's stats.

    Renames and the people typed there are kept in the session and told to ``followers``
    (the live assistant, the browser's viewers).
    """
    from loguru import logger

    from .ui.tui import CaptionApp, TuiSession

    # Textual draws on stderr: warnings go to a log beside the session instead.
    logger.remove()
    logger.add(f"{args.session}.log", level="WARNING")

    def told(event: dict[str, Any]) -> dict[str, Any]:
        for follower in followers:
            follower(event)
        return event

    session = TuiSession(
        title=title,
        live=True,
        ask=ask,
        rename=lambda label, name: told(store.rename_speaker(session_id, label, name)),
        people=lambda names: told(store.set_people(session_id, [names])),
        export=_minutes_exporter(store, session_id),
        export_dir=getattr(args, "export_dir", Path()),
    )
    app = CaptionApp(session, capture)
    app.load(earlier)
    app.run()
    if app.capture_result is None:
        raise CliError("the terminal UI ended before the capture finished")
    return app.capture_result


@contextmanager
def _stored_session(args: argparse.Namespace) -> Iterator[tuple[Any, int]]:
    """The store and the session ``--id`` names, else the latest; closed afterwards.

    A session that is not there (no ``--id`` like it, or none at all) is a CliError.
    """
    from .assistant.store import SessionNotFoundError

    store = _open_store(args.session, must_exist=True)
    try:
        yield store, store.check_session(args.id) if args.id else store.latest_session()
    except SessionNotFoundError as exc:
        raise CliError(str(exc)) from exc
    finally:
        store.close()


def _stored_asker(args: argparse.Namespace, store: Any, session_id: int) -> Any:
    """With --assistant, what answers questions about a stored session; else None."""
    from .assistant.ask import StoredSessionAsker, session_transcript

    if not args.assistant:
        return None
    llm = _assistant_llm(args.llm, beside_captions=False)
    return StoredSessionAsker(llm, session_transcript(store, session_id))


def _minutes_exporter(store: Any, session_id: int) -> Any:
    """Writes the session's markdown minutes into a folder it is given (the TUI's `e`)."""
    from .assistant.export import export_name, write

    return lambda folder: write(store, session_id, "md", folder / export_name(session_id, "md"))


def _tui_past(args: argparse.Namespace) -> int:
    """Reopen a stored session in the terminal UI, read-only."""
    from .ui.tui import CaptionApp, TuiSession

    with _stored_session(args) as (store, session_id):
        info = store.session_info(session_id)
        events = list(store.events(session_id))
        asker = _stored_asker(args, store, session_id)
        try:
            session = TuiSession(
                title=info.title,
                live=False,
                ask=asker,
                export=_minutes_exporter(store, session_id),
                export_dir=args.export_dir,
            )
            app = CaptionApp(session)
            app.load(events)
            app.run()
        finally:
            if asker is not None:
                asker.llm.close()
    return 0


def _announce(server: Any, url: str) -> None:
    """Say where the page is; off loopback, its access tokens (shown this once only)."""
    print(f"roomtone: the caption page is at {url}", file=sys.stderr, flush=True)
    policy = server.policy
    if not policy.open:
        print(
            f"roomtone: bound beyond this machine; the links carry access tokens (shown once):\n"
            f"  presenter (sends audio, exports): {url}?token={policy.presenter_token}\n"
            f"  viewers (read and ask):           {url}?token={policy.viewer_token}",
            file=sys.stderr,
            flush=True,
        )


def _serve_past(args: argparse.Namespace) -> int:
    """Serve a stored session's page, read-only, until Ctrl+C."""
    from .ui.hub import EventHub
    from .ui.web_server import MeetingView, WebServer

    async def serve(view: MeetingView) -> None:
        server = WebServer(view, args.host, args.port)
        try:
            url = await server.start()
        except OSError as exc:
            raise CliError(f"cannot serve on {args.host}:{args.port}: {exc}") from exc
        _announce(server, url)
        try:
            await asyncio.Event().wait()
        finally:
            await server.stop()

    with _stored_session(args) as (store, session_id):
        info = store.session_info(session_id)
        asker = _stored_asker(args, store, session_id)
        try:
            hub = EventHub(store, session_id)
            asyncio.run(
                serve(MeetingView(hub, store, session_id, info.title, live=False, ask=asker))
            )
        finally:
            if asker is not None:
                asker.llm.close()
    return 0


class _CaptionPrinter:
    """Final captions on the terminal as they come; with --quiet, a progress line instead.

    A terminal cannot rewrite what it printed, so a revision is printed again,
    marked "(corrected)"; a caption republished only for a new speaker label is not.
    Sounds show as "[phone ringing]", tone flags after the caption they qualify.
    """

    PROGRESS_EVERY_S = 60.0

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._next_progress = self.PROGRESS_EVERY_S
        self._final_ids: set[str] = set()
        self._printed: dict[str, str] = {}
        self._started = time.monotonic()

    def __call__(self, event: dict[str, Any]) -> None:
        if event["type"] == "caption" and event["final"] and event["text"]:
            self._final_ids.add(event["id"])
        if not self.enabled:
            at = event.get("end", event.get("at", 0.0)) or 0.0
            if at >= self._next_progress:
                self._next_progress = (at // self.PROGRESS_EVERY_S + 1) * self.PROGRESS_EVERY_S
                print(
                    f"roomtone: [{format_clock(at)}] {len(self._final_ids)} final captions, "
                    f"{time.monotonic() - self._started:.0f} s elapsed",
                    file=sys.stderr,
                    flush=True,
                )
            return
        kind = event["type"]
        if kind == "caption" and event["final"] and event["text"]:
            if self._printed.get(event["id"]) == event["text"]:
                return
            mark = " (corrected)" if event["id"] in self._printed else ""
            self._printed[event["id"]] = event["text"]
            who = f" {event['speaker']}:" if event.get("speaker") else ""
            print(f"[{format_clock(event['start'])}]{who}{mark} {event['text']}", flush=True)
        elif kind == "sound" and not event["final"]:
            print(f"[{format_clock(event['start'])}] {event['caption']}", flush=True)
        elif kind == "emotion" and event["label"] != "neutral":
            print(
                f"[{format_clock(event['start'])}] {event['speaker']} ({event['label']})",
                flush=True,
            )
        elif event["type"] == "notice":
            print(
                f"[{format_clock(event['at'])}] ({event['level']}) {event['message']}", flush=True
            )


def _export(args: argparse.Namespace) -> int:
    from .assistant.export import render, write

    with _stored_session(args) as (store, session_id):
        minutes = _minutes(store, session_id, args.llm) if args.minutes else None
        if not args.output:
            sys.stdout.write(render(store, session_id, args.format, minutes))
            return 0
        try:
            write(store, session_id, args.format, args.output, minutes)
        except OSError as exc:
            raise CliError(f"cannot write {args.output}: {exc}") from exc
        print(f"roomtone: wrote {args.output}", file=sys.stderr)
    return 0


def _audio_llm_captioner(args: argparse.Namespace) -> tuple[Any, str]:
    """The audio-LLM tier in the caption engine's seat; the model's name for the session."""
    try:
        from .plugins.llm_openai import EndpointError
        from .plugins.moss_audio.captioner import AudioLLMCaptioner
        from .plugins.moss_audio.checkpoint import CheckpointError, load_model
        from .plugins.moss_audio.engine import MossAudioEngine
        from .plugins.moss_audio.remote import RemoteMossAudioEngine
        from .plugins.moss_audio.session import AudioSession
        from .plugins.moss_audio.tokens import CheckpointTokenizer
    except ImportError as exc:
        raise CliError(f"the audio-LLM tier needs roomtone[audio-llm]: {exc}") from exc
    try:
        if args.backend == "moss-audio-remote":
            if not args.endpoint:
                raise CliError("--backend moss-audio-remote needs --endpoint URL")
            remote = RemoteMossAudioEngine(args.endpoint, args.remote_model)
            return AudioLLMCaptioner(remote), f"{args.remote_model} at {args.endpoint}"
        import torch

        device = args.model_device or ("cuda" if torch.cuda.is_available() else "cpu")
        model = load_model(args.model, device)
        session = AudioSession(model, CheckpointTokenizer(args.model))
        return AudioLLMCaptioner(MossAudioEngine(session)), str(Path(args.model).resolve())
    except (CheckpointError, EndpointError) as exc:
        raise CliError(str(exc)) from exc


def _assistant_llm(name: str, beside_captions: bool) -> Any:
    """The local LLM for the assistant; a clear error if it cannot be loaded.

    ``beside_captions``: it shares the machine with live captioning, so it leaves one
    core to the captions.
    """
    from .plugins.llm_llamacpp import LlamaCppLLM, threads_beside_captions
    from .plugins.model_files import ModelNotFoundError

    threads = threads_beside_captions() if beside_captions else None
    try:
        return LlamaCppLLM(name, threads=threads, batch_threads=threads)
    except ModelNotFoundError as exc:
        raise CliError(str(exc)) from exc


def _ask(args: argparse.Namespace) -> int:
    import json

    from .assistant.actions import action_items
    from .assistant.ask import (
        answer_question,
        check_question,
        parse_since,
        session_transcript,
    )
    from .assistant.memory import MeetingMemory
    from .plugins.llm_llamacpp import LlamaCppLLM
    from .plugins.llm_openai import EndpointError, OpenAICompatibleLLM
    from .plugins.model_files import ModelNotFoundError

    with _stored_session(args) as (store, session_id):
        transcript = session_transcript(store, session_id)
    try:
        since = parse_since(args.since) if getattr(args, "since", None) else None
        if args.command == "ask":
            check_question(transcript, args.question, since)
            live = _ask_live_session(args.session, session_id, args.question, since)
            if live is not None:
                print(json.dumps(live) if args.json else live["answer"])
                return 0
        llm = (
            OpenAICompatibleLLM(args.endpoint, args.llm) if args.endpoint else LlamaCppLLM(args.llm)
        )
        try:
            if args.command == "ask":
                answer = answer_question(llm, transcript, args.question, since)
                print(json.dumps(answer.to_json()) if args.json else answer.text)
                return 0
            memory = MeetingMemory(llm)
            memory.update(transcript)
            items = action_items(memory, transcript) if transcript.lines() else []
        finally:
            llm.close()
    except (ValueError, ModelNotFoundError, EndpointError) as exc:
        raise CliError(str(exc)) from exc
    if args.json:
        print(json.dumps([item.to_json() for item in items]))
    else:
        print("\n".join(item.render() for item in items) or "No action items.")
    return 0


def _ask_live_session(
    db: str, session_id: int, question: str, since: float | None
) -> dict[str, Any] | None:
    """The answer of the live process following this session, or None if none is."""
    from .assistant.live import ask_live, ask_socket_path

    path = ask_socket_path(db, session_id)
    if not path.exists():
        return None
    try:
        reply = ask_live(path, question, since)
    except OSError:
        return None  # it ended meanwhile: answer from the stored session
    if "error" in reply:
        raise CliError(reply["error"])
    return reply


def _change_session(args: argparse.Namespace, change: Callable[[Any, int], None]) -> int:
    """Apply ``change(store, session_id)`` to the chosen session; its id. Errors are CliErrors."""
    with _stored_session(args) as (store, session_id):
        try:
            change(store, session_id)
        except ValueError as exc:
            raise CliError(str(exc)) from exc
    return session_id


def _rename(args: argparse.Namespace) -> int:
    _change_session(args, lambda store, sid: store.rename_speaker(sid, args.speaker, args.name))
    shown = " ".join(args.name.split())
    print(f"roomtone: {args.speaker} is now shown as {shown}", file=sys.stderr)
    return 0


def _people_option(text: str) -> list[str]:
    from .assistant.people import parse_people

    try:
        return parse_people(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def _people(args: argparse.Namespace) -> int:
    session_id = _change_session(args, lambda store, sid: store.set_people(sid, args.names))
    print(f"roomtone: session {session_id}: {', '.join(args.names)}", file=sys.stderr)
    return 0


def _minutes(store: Any, session_id: int, llm_name: str) -> dict[str, Any]:
    from .assistant.ask import session_transcript
    from .assistant.memory import MeetingMemory
    from .assistant.minutes import write_minutes
    from .plugins.llm_llamacpp import LlamaCppLLM
    from .plugins.model_files import ModelNotFoundError

    transcript = session_transcript(store, session_id)
    try:
        memory = MeetingMemory(LlamaCppLLM(llm_name))
    except ModelNotFoundError as exc:
        raise CliError(str(exc)) from exc
    memory.update(transcript)
    return write_minutes(memory, transcript).to_json()


def _sessions(args: argparse.Namespace) -> int:
    store = _open_store(args.session, must_exist=True)
    try:
        rows = store.sessions()
    finally:
        store.close()
    if not rows:
        print("no sessions")
    for s in rows:
        print(
            f"{s.id:4d}  {format_clock(s.last_time):>8}  {s.captions:5d} captions  "
            f"{s.title}  ({s.source})"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
