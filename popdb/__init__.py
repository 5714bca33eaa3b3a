"""popdb package."""
