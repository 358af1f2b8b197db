"""Resident registry (住民記録): synthetic populations and, later, the register itself."""
