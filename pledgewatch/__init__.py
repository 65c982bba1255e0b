"""pledgewatch: track public pledges until they are kept or broken."""

__version__ = "0.1.0"
