"""Count every list, and the one-value filters of commitments and statements, once per load.

A list's `total` then costs one primary-key lookup at any size of data (see `ListTotal`);
only a request combining filters counts its rows, and stops at a cap. Plain SQL, so both
loaders (the curated seed and the bulk format) share it after writing their rows.
"""

from sqlalchemy import Connection, text

TABLE = "list_total"  # internal: not a table of facts, so not in a dataset's counts


def naming(fact_type: str) -> str:
    """How many facts of this type name each entity."""
    return (
        "SELECT e.slug, count(m.fact_id) FROM entity e LEFT JOIN mention m"
        f" ON m.entity_slug = e.slug AND m.fact_type = '{fact_type}' GROUP BY e.slug"
    )


# (list, filter, the SQL that yields (value, count) pairs)
COUNTS = [
    ("commitments", "", "SELECT '', count(*) FROM commitment"),
    # Every value of the vocabulary has its row, 0 included: no row means an unknown value.
    (
        "commitments",
        "area",
        "SELECT a.slug, count(l.commitment_id) FROM area a"
        " LEFT JOIN commitment_area l ON l.area_slug = a.slug GROUP BY a.slug",
    ),
    (
        "commitments",
        "country",
        "SELECT c.code, count(l.commitment_id) FROM country c"
        " LEFT JOIN commitment_country l ON l.country = c.code GROUP BY c.code",
    ),
    (
        "commitments",
        "dialogue",
        "SELECT CAST(dialogue_id AS TEXT), count(*) FROM commitment GROUP BY dialogue_id",
    ),
    ("commitments", "kind", "SELECT kind, count(*) FROM commitment GROUP BY kind"),
    ("commitments", "mentions", naming("commitment")),
    ("dialogues", "", "SELECT '', count(*) FROM dialogue"),
    ("indicators", "", "SELECT '', count(*) FROM indicator"),
    ("people", "", "SELECT '', count(*) FROM person"),
    ("statements", "", "SELECT '', count(*) FROM statement"),
    ("statements", "mentions", naming("statement")),
    ("sources", "", "SELECT '', count(*) FROM source"),
    ("series", "", "SELECT '', count(*) FROM series"),
    ("areas", "", "SELECT '', count(*) FROM area"),
    ("entities", "", "SELECT '', count(*) FROM entity"),
    ("countries", "", "SELECT '', count(*) FROM country"),
]


def refresh_totals(conn: Connection) -> None:
    """Replace the stored totals with counts of the rows now in the tables."""
    conn.execute(text(f"DELETE FROM {TABLE}"))
    for name, filter_, counts in COUNTS:
        conn.execute(
            text(
                f"INSERT INTO {TABLE} (list, filter, value, total) "
                f"SELECT :list, :filter, counted.* FROM ({counts}) AS counted"
            ),
            {"list": name, "filter": filter_},
        )
