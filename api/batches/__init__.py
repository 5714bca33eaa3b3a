"""Match preview: held batches, their dry-run preview and release; communes' settings."""
