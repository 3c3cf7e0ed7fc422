"""sdehub: an open implementation of LivePerson's Engagement Attributes (SDE) system."""

__version__ = "0.1.0"
