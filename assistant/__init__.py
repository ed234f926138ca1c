"""The session: an append-only timeline store and its exports."""
