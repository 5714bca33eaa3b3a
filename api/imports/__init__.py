"""Police uploads: import batches, their status and their error reports."""
