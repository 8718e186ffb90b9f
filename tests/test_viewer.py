"""The provenance viewer: `GET /sources/{id}` as an HTML page for a browser, JSON otherwise."""

from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.schemas import ExcludedRange, SourceDetail, SourceSpan
from app.viewer import Marked, render_source, tokens

SOURCE = "/sources/mfa-cn-2025-03-22"
CITATION = "/sources/mofa-jp-dialogue0712"
CHROME = (
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,"
    "image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7"
)
FIREFOX = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}


# A small DOM, enough to read what a browser would build from the page.


class Node:
    def __init__(self, tag: str, attrs: dict[str, str], parent: "Node | None"):
        self.tag = tag
        self.attrs = attrs
        self.parent = parent
        self.children: list[Node | str] = []

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def iter(self) -> Iterator["Node"]:
        yield self
        for child in self.children:
            if isinstance(child, Node):
                yield from child.iter()

    def find(self, tag: str | None = None, **attrs: str) -> "Node":
        found = [
            n
            for n in self.iter()
            if (tag is None or n.tag == tag) and all(n.attrs.get(k) == v for k, v in attrs.items())
        ]
        assert len(found) == 1, (tag, attrs, len(found))
        return found[0]

    def links(self) -> list[str]:
        return [n.attrs["href"] for n in self.iter() if n.tag == "a" and "href" in n.attrs]


class Tree(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {}, None)
        self.current = self.root

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: v or "" for k, v in attrs}, self.current)
        self.current.children.append(node)
        if tag not in VOID:
            self.current = node

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.current.children.append(Node(tag, {k: v or "" for k, v in attrs}, self.current))

    def handle_endtag(self, tag: str) -> None:
        node: Node | None = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        assert node is not None and node.parent is not None, f"stray </{tag}>"
        self.current = node.parent

    def handle_data(self, data: str) -> None:
        self.current.children.append(data)


def dom(html: str) -> Node:
    tree = Tree()
    tree.feed(html)
    tree.close()
    assert tree.current is tree.root, "unclosed elements"
    return tree.root


def marked_text(root: Node) -> dict[str, str]:
    """The text each marked range covers, its fragments joined in document order."""
    out: dict[str, str] = {}
    for node in root.iter():
        if "data-span" in node.attrs:
            key = node.attrs["data-span"]
            out[key] = out.get(key, "") + node.text()
    return out


def own_links(node: Node) -> list[str]:
    """Links in `node` that are not inside an evidence mark nested in it."""
    found = []
    for child in node.children:
        if isinstance(child, Node):
            if child.tag == "a" and "href" in child.attrs:
                found.append(child.attrs["href"])
            elif "evidence" not in child.classes:
                found += own_links(child)
    return found


def source_title(client: TestClient) -> str:
    return str(client.get(SOURCE).json()["title"])


def page(client: TestClient, path: str) -> tuple[Any, Node]:
    response = client.get(path, headers={"Accept": CHROME})
    assert response.status_code == 200, response.text
    return response, dom(response.text)


# Negotiation


@pytest.mark.parametrize(
    "accept",
    [
        None,
        "*/*",
        "application/json",
        "application/json, text/html",  # a tie goes to JSON
        "application/json, text/html;q=0.9",
        "text/html;q=0.5, */*",
        "application/*",
        "image/png",  # nothing acceptable is on offer: JSON, as for every other resource
    ],
)
def test_json_is_the_default(client: TestClient, accept: str | None) -> None:
    headers = {"Accept": accept} if accept is not None else {}
    response = client.get(SOURCE, headers=headers)
    if response.status_code == 406:  # the edge may refuse what it cannot serve
        assert accept == "image/png"
        return
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert "accept" in response.headers["vary"].lower()
    assert response.json()["id"] == "mfa-cn-2025-03-22"
    assert response.content == client.get(SOURCE).content


@pytest.mark.parametrize("accept", [CHROME, FIREFOX, "text/html", "text/*", "text/html, */*;q=0.1"])
def test_a_browser_gets_the_page(client: TestClient, accept: str) -> None:
    response = client.get(SOURCE, headers={"Accept": accept})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "accept" in response.headers["vary"].lower()
    html = response.text
    assert html.startswith("<!doctype html>")
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert "@media" in html  # the layout changes with the screen's width
    # Self-contained: inline CSS, no script, nothing fetched from elsewhere.
    assert "<script" not in html.lower()
    assert "src=" not in html
    root = dom(html)
    for node in root.iter():
        if node.tag == "link":
            assert node.attrs["href"].startswith("data:"), node.attrs
    assert root.find(tag="h1").text() == source_title(client)


def test_unknown_source_stays_a_problem(client: TestClient) -> None:
    for headers in ({"Accept": CHROME}, {}):
        response = client.get("/sources/no-such-source", headers=headers)
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["detail"] == "source 'no-such-source' not found"


def test_the_html_is_documented(client: TestClient) -> None:
    operation = client.get("/openapi.json").json()["paths"]["/sources/{source_id}"]["get"]
    content = operation["responses"]["200"]["content"]
    assert set(content) >= {"application/json", "text/html"}
    assert content["text/html"]["schema"] == {"type": "string"}
    assert "Vary" in operation["responses"]["200"]["headers"]
    assert "application/problem+json" in operation["responses"]["404"]["content"]


# The page


def test_the_page_keeps_the_text_whole(client: TestClient) -> None:
    source = client.get(SOURCE).json()
    _, root = page(client, SOURCE)
    assert root.find(id="text").text() == source["text"]


def test_every_evidence_span_is_marked_exactly(client: TestClient) -> None:
    source = client.get(SOURCE).json()
    _, root = page(client, SOURCE)
    marked = marked_text(root)
    assert len(source["evidence"]) > 100
    for span in source["evidence"]:
        key = f"{span['start']}-{span['end']}"
        mark = root.find(id=f"span-{key}")
        assert "evidence" in mark.classes and mark.attrs["data-span"] == key
        assert span["role"] in mark.classes
        assert marked[key] == span["quote"], span
        assert f"{span['fact_type']}:{span['fact_id']}" in mark.attrs["data-facts"].split()
        # RFC 5147 links into the page land on the span: an empty target just before it.
        target = root.find(id=f"char={span['start']},{span['end']}")
        siblings = target.parent.children if target.parent else []
        assert siblings[siblings.index(target) + 1] is mark


def test_each_mark_links_to_the_fact_it_supports(client: TestClient) -> None:
    source = client.get(SOURCE).json()
    _, root = page(client, SOURCE)
    reached: set[str] = set()
    for span in source["evidence"]:
        key = f"{span['start']}-{span['end']}"
        mark = root.find(id=f"span-{key}")
        links = set(own_links(mark))
        if not links:
            continue  # wholly covered by narrower spans: reached from the side list
        assert len(links) == 1, links
        (href,) = links
        if href.startswith("#"):  # several facts: the mark leads to their list
            assert href == f"#facts-{key}"
            assert span["fact"] in root.find(id=f"facts-{key}").links()
        else:
            assert href == span["fact"]
        reached.add(key)
    assert len(reached) >= 0.9 * len({(s["start"], s["end"]) for s in source["evidence"]})
    for href in set(root.find(id="text").links()):
        assert href.startswith(("/", "#facts-")), href


def test_the_side_list_gives_each_fact_its_json_and_spans(client: TestClient) -> None:
    source = client.get(SOURCE).json()
    _, root = page(client, SOURCE)
    aside = root.find(id="facts")
    headings = [n.text().split(" (")[0] for n in aside.iter() if n.tag == "h3"]
    assert headings[:6] == [
        "Commitments",
        "Indicators",
        "Participations",
        "Context events",
        "Statements",
        "Dialogue fields",
    ]
    for span in source["evidence"]:
        kind = aside.find(id=f"kind-{span['fact_type']}")
        entry = kind.find(id=f"fact-{span['fact_type']}-{span['fact_id']}")
        links = entry.links()
        assert links[0] == span["fact"]
        assert f"#span-{span['start']}-{span['end']}" in links
    # Every in-page link points at something on the page.
    ids = {n.attrs["id"] for n in root.iter() if "id" in n.attrs}
    for href in root.links():
        if href.startswith("#"):
            assert href[1:] in ids, href


def test_page_furniture_is_greyed_out_of_the_evidence(client: TestClient) -> None:
    source = client.get(SOURCE).json()
    _, root = page(client, SOURCE)
    assert source["excluded"]
    for r in source["excluded"]:
        node = root.find(id=f"excluded-{r['start']}-{r['end']}")
        assert node.classes == {"furniture"}
        assert node.text() == source["text"][r["start"] : r["end"]]
        assert node.attrs["data-label"] == r["label"]
        assert not node.links() and not any("evidence" in n.classes for n in node.iter())
    style = root.find(tag="style").text()
    rule = style[style.index(".furniture {") :].split("}")[0]
    assert "color: #8f8f8f" in rule


def test_a_citation_shows_its_record_and_links_to_the_cited_page(client: TestClient) -> None:
    source = client.get(CITATION).json()
    assert source["kind"] == "citation" and source["text"] is None
    _, root = page(client, CITATION)
    assert root.find(tag="h1").text() == source["title"]
    assert root.find(tag="a", **{"class": "cited"}).attrs["href"] == source["url"]
    assert source["publisher"] in root.text()
    assert not [n for n in root.iter() if n.attrs.get("id") == "text"]
    for span in source["evidence"]:
        assert span["supports"] in root.text()
        assert span["fact"] in root.find(id=f"fact-{span['fact_type']}-{span['fact_id']}").links()


# Rendering, on made-up sources


def made_up(text: str, spans: list[tuple[int, int, str]], **fields: Any) -> SourceDetail:
    record: dict[str, Any] = {
        "id": "made-up",
        "kind": "document",
        "first_seen": 1,
        "last_changed": 1,
        "title": "Made up",
        "publisher": "Nobody",
        "account_of": None,
        "republished_by": None,
        "url": None,
        "original_url": None,
        "published_as_stated": None,
        "published_on": None,
        "language": "en",
        "licence": "none",
        "sha256": None,
        "length": len(text),
        "text": text,
        "excluded": [],
        "evidence": [
            SourceSpan(
                fact_type="commitment",
                fact_id=fact_id,
                fact=f"/commitments/{fact_id}",
                role="content",
                field=None,
                quote=text[start:end],
                start=start,
                end=end,
                link=f"/sources/made-up#char={start},{end}",
                supports=None,
            )
            for start, end, fact_id in spans
        ],
    }
    return SourceDetail(**{**record, **fields})


def test_crossing_spans_are_split_and_both_marked() -> None:
    source = made_up("abcdefghijkl", [(0, 6, "1"), (3, 9, "2"), (4, 5, "3"), (3, 9, "4")])
    root = dom(render_source(source))
    assert root.find(id="text").text() == source.text
    marked = marked_text(root)
    assert marked == {"0-6": "abcdef", "3-9": "defghi", "4-5": "e"}
    fragments = [n for n in root.iter() if n.attrs.get("data-span") == "3-9"]
    assert len(fragments) == 2 and "continued" in fragments[1].classes
    assert fragments[0].attrs["data-facts"] == "commitment:2 commitment:4"
    assert root.find(id="span-4-5").parent is fragments[0]
    # The innermost span's fact gets the click; the shared span leads to its list.
    assert own_links(root.find(id="span-0-6")) == ["/commitments/1"]
    assert set(own_links(fragments[0])) == {"#facts-3-9"}
    assert root.find(id="facts-3-9").links()[1:3] == ["/commitments/2", "#fact-commitment-2"]


def test_tokens_nest_properly() -> None:
    marks = [Marked(0, 4, []), Marked(2, 6, []), Marked(2, 3, []), Marked(5, 8, [])]
    depth = 0
    opened: list[Marked] = []
    for token in tokens("0123456789", marks):
        if token.kind == "open":
            depth += 1
            assert token.mark is not None
            opened.append(token.mark)
        elif token.kind == "close":
            depth -= 1
            assert opened.pop() is token.mark
        assert depth >= 0
    assert depth == 0


def test_everything_is_escaped() -> None:
    text = 'x <script>alert("t")</script> & <b>bold</b>\r\nend'
    source = made_up(
        text,
        [(2, 29, "1")],
        title='"><img src=x onerror=alert(1)>',
        publisher="<i>P</i>",
        url="javascript:alert(1)",
        excluded=[ExcludedRange(start=45, end=48, label='"><script>')],
    )
    html = render_source(source)
    assert "<script" not in html and "<img" not in html and "<i>" not in html
    assert "&lt;script&gt;" in html and "&lt;b&gt;bold&lt;/b&gt;" in html
    assert 'href="javascript:' not in html
    root = dom(html)
    assert root.find(id="text").text() == text  # the carriage return survives as &#13;
    assert marked_text(root)["2-29"] == text[2:29]
    assert root.find(tag="h1").text() == source.title
