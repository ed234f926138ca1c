"""The audio-LLM tier: a MOSS-Audio-compatible model made streaming (see docs/moss-audio.md).

Importing this package needs torch and transformers only; nothing here fetches weights.
"""
