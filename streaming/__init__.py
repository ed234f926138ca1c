"""Sources, the session clock, VAD, rolling windows, caption engines and the pipeline."""
