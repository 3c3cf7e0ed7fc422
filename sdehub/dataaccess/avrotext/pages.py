"""A page view's item of a WebSession line, as Avro JSON text from its row."""

from __future__ import annotations

from sdehub.dataaccess.avrotext.leaves import NULL, esc, long, s
from sdehub.store.exports import Row


def page_item(page: Row) -> str:
    """One page's ``PageView`` item of a WebSession line (the store keeps it with the page)."""
    url = NULL
    sections = []
    for point in page["entry_points"] or ():
        point = point if type(point) is str else str(point)
        if point[:6].lower() == "sec://":
            sections.append(esc(point[6:]))
        elif url is NULL:
            url = '{"string":' + esc(point) + "}"
    at = page["first_ms"]
    stamp = f'{{"timestamp":{{"long":{at}}}' if type(at) is int else '{"timestamp":' + long(at)
    return (
        f'{stamp},"pageId":{s(page["page_id"])},"url":{url}'
        f',"sections":{{"array":[{",".join(sections)}]}}}}'
    )
