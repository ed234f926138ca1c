"""Model backends and exporters behind small interfaces, discovered through entry points."""
