"""Developer tools: reference digest and manifest generation (not shipped in the wheel)."""
