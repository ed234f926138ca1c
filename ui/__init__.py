"""User interfaces fed by the session's event stream."""
