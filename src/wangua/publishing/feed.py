"""The public Atom feed of announcements and results (R-04, R-29)."""

from __future__ import annotations

from xml.etree import ElementTree as ET

from wangua.kit.times import rfc3339
from wangua.publishing.models import Publication

ATOM = "http://www.w3.org/2005/Atom"


def atom(publications: list[Publication], base_url: str) -> bytes:
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")
    ET.SubElement(feed, f"{{{ATOM}}}title").text = "网上挂牌出让公告与结果"
    ET.SubElement(feed, f"{{{ATOM}}}id").text = f"{base_url}/api/v1/feed.atom"
    ET.SubElement(feed, f"{{{ATOM}}}link", rel="self", href=f"{base_url}/api/v1/feed.atom")
    updated = max((p.created_at for p in publications), default=None)
    ET.SubElement(feed, f"{{{ATOM}}}updated").text = rfc3339(updated) or "1970-01-01T00:00:00Z"
    for publication in publications:
        entry = ET.SubElement(feed, f"{{{ATOM}}}entry")
        ET.SubElement(
            entry, f"{{{ATOM}}}id"
        ).text = f"{base_url}/api/v1/publications/{publication.id}"
        ET.SubElement(entry, f"{{{ATOM}}}title").text = publication.title
        ET.SubElement(entry, f"{{{ATOM}}}updated").text = rfc3339(publication.created_at)
        ET.SubElement(entry, f"{{{ATOM}}}category", term=publication.kind)
        ET.SubElement(entry, f"{{{ATOM}}}link", href=f"{base_url}/api/v1/lots/{publication.lot_id}")
        author = ET.SubElement(entry, f"{{{ATOM}}}author")
        ET.SubElement(author, f"{{{ATOM}}}name").text = str(
            publication.payload.get("lot", {}).get("grantor_name") or "交易机构"
        )
        ET.SubElement(entry, f"{{{ATOM}}}summary").text = publication.payload.get(
            "summary", publication.title
        )
    document: bytes = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
    return document
