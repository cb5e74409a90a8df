"""Agent-based model of the Russia–DPRK relationship among six states (the model package)."""

__version__ = "0.1.0"
