"""Hydra entry points, curated experiments and teaching exercises."""
