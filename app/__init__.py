"""Bilateral facts: verified facts about diplomatic dialogues, each with its evidence."""

__version__ = "0.1.0"
