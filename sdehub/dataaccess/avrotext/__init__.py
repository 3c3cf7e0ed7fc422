"""WebSession and Engagement lines as Avro JSON text, written straight from the rows.

These two files are most of an hour's bytes, and Avro JSON is mostly constant text: every field
name, every ``{"string": ...}`` / ``{"com.liveperson.dataaccess.X": ...}`` union wrapper, every
absent field's ``null``. Building a dict per record and per wrapper and then encoding it (the
generic path, ``files.encode_line``) cost several times what ``gzip -6`` takes to compress the
result (docs/benchmarks.md, "Export"); here each record is one string built from literal pieces
and its escaped leaf values only. An SDE's record depends only on its type, its stored payload
text and whether it was authenticated, so it is built once per distinct payload in a file.

The WebSession items (an SDE's, a page's, a goal's) are written when they are recorded: the store
calls :func:`attribute`, :func:`page_item` and ``goals.goal_item`` and keeps the text, the export's
queries join it per visit and :func:`web_session_lines_from_texts` writes the lines around it.
:func:`web_session_lines` writes the same lines from the rows (the reference the tests compare
with, and the way the export worked before).

The text is the generic encoder's to the byte: the tests read every line back with fastavro
against the shipped schema and encode it again with ``files.encode_line``.
"""

from sdehub.dataaccess.avrotext.engagement import engagement_lines, engagement_lines_from_rows
from sdehub.dataaccess.avrotext.lines import (
    VisitText,
    web_session_lines,
    web_session_lines_from_texts,
    web_session_text_from_texts,
)
from sdehub.dataaccess.avrotext.pages import page_item
from sdehub.dataaccess.avrotext.sdes import attribute

__all__ = [
    "VisitText",
    "attribute",
    "engagement_lines",
    "engagement_lines_from_rows",
    "page_item",
    "web_session_lines",
    "web_session_lines_from_texts",
    "web_session_text_from_texts",
]
