"""給付金 (benefit programs): declared programs, eligibility over the registry and the tax results (issue #5)."""
