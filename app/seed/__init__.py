"""The seed: its format, its checks, and the loader that writes it."""
