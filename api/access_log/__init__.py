"""An administrator's view of who read a person's data."""
