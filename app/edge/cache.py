"""A response cache outside the routing: every response is a pure function of (dataset
version, path, query, Accept) — the encoding and HEAD are derived from the stored entry.

Bounded in bytes (least recently used goes first) and invalidated by the dataset version:
entries of an older version are dropped as soon as a newer one is stored.
"""

from collections import OrderedDict

from app.edge.representations import Stored

Key = tuple[int, str, bytes, bytes]


class ResponseCache:
    def __init__(self, budget_bytes: int):
        self.budget = budget_bytes
        self.entries: OrderedDict[Key, Stored] = OrderedDict()
        self.size = 0
        self.version: int | None = None

    def get(self, key: Key) -> Stored | None:
        stored = self.entries.get(key)
        if stored is not None:
            self.entries.move_to_end(key)
        return stored

    def put(self, key: Key, stored: Stored) -> None:
        version = key[0]
        if self.version is None or version > self.version:
            self.entries.clear()
            self.size = 0
            self.version = version
        elif version < self.version or key in self.entries:
            return  # a late answer from an older snapshot, or already stored
        stored.gzipped  # noqa: B018 - compress once now, not on every hit
        size = stored.size + len(key[1]) + len(key[2]) + len(key[3])
        if size > self.budget // 4:
            return  # one response may not crowd out the rest
        self.entries[key] = stored
        self.size += size
        while self.size > self.budget:
            _, evicted = self.entries.popitem(last=False)
            self.size -= evicted.size
