"""idm-gate: hold model pull requests to an intelligence-density budget."""

__version__ = "0.1.0"
