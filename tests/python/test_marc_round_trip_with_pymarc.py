"""Lectern's MARC import and export agree with pymarc, the MARC library
most Python library tools use.

A MARC21 file written by pymarc (two titles, Chinese and English, with 952
items) is imported into a school of the demo district through the gateway
(`MarcService/ImportMarc`, the file streamed in small chunks), then the
school's holdings are exported (`MarcService/ExportMarc`) as ISO 2709 and
as MARCXML and read back with pymarc, field for field: title, ISBN,
authors, publisher, year, CLC and Dewey class numbers, and every item.
ISBNs and barcodes come from a fixed seed plus the time, so the test can
run again against the same suite.
"""

import io
import random
import time

import grpc
import pymarc
from conftest import login
from google.protobuf import json_format, message_factory
from pymarc import Field, Indicators, Record, Subfield

MARC = "lectern.catalog.v1.MarcService"
READERS = "lectern.reader.v1.ReaderService"


def isbn13(rng):
    digits = "978" + "".join(str(rng.randrange(10)) for _ in range(9))
    total = sum((3 if index % 2 else 1) * int(digit) for index, digit in enumerate(digits))
    return digits + str((10 - total % 10) % 10)


def field(tag, indicators, *subfields):
    return Field(
        tag=tag,
        indicators=Indicators(*indicators),
        subfields=[Subfield(code=code, value=value) for code, value in subfields],
    )


def book(isbn, title, subtitle, author, translator, publisher, year, clc, dewey, items):
    record = Record(force_utf8=True)
    record.leader = pymarc.Leader("00000nam a2200000   4500")
    record.add_field(field("020", "  ", ("a", isbn)))
    record.add_field(field("082", "04", ("a", dewey)))
    record.add_field(field("084", "  ", ("a", clc), ("2", "clc")))
    record.add_field(field("100", "1 ", ("a", author), ("e", "author")))
    record.add_field(field("245", "10", ("a", title), ("b", subtitle)))
    record.add_field(field("264", " 1", ("b", publisher), ("c", str(year))))
    record.add_field(field("700", "1 ", ("a", translator), ("e", "translator")))
    for barcode, call_number, location, item_type, price in items:
        record.add_field(
            field(
                "952",
                "  ",
                ("c", location),
                ("g", price),
                ("o", call_number),
                ("p", barcode),
                ("y", item_type),
            )
        )
    return record


def message_class(lectern, method, output=False):
    descriptor = lectern.pool.FindServiceByName(MARC).FindMethodByName(method)
    return message_factory.GetMessageClass(descriptor.output_type if output else descriptor.input_type)


def import_file(lectern, token, school_id, data):
    request_class = message_class(lectern, "ImportMarc")
    response_class = message_class(lectern, "ImportMarc", output=True)
    stub = lectern.channel.stream_stream(
        f"/{MARC}/ImportMarc",
        request_serializer=request_class.SerializeToString,
        response_deserializer=response_class.FromString,
    )

    def messages():
        yield json_format.ParseDict(
            {"options": {"format": "MARC_FORMAT_ISO2709", "school_id": school_id, "source_name": "pymarc.mrc"}},
            request_class(),
        )
        for start in range(0, len(data), 700):
            yield request_class(chunk=data[start : start + 700])

    last = None
    rejected = []
    for response in stub(messages(), metadata=[("authorization", f"Bearer {token}")], timeout=60):
        answer = json_format.MessageToDict(response, preserving_proto_field_name=True)
        rejected.extend(answer.get("results", []))
        last = answer
    assert last is not None and last.get("done"), last
    return last, rejected


def export(lectern, token, school_id, fmt):
    request_class = message_class(lectern, "ExportMarc")
    response_class = message_class(lectern, "ExportMarc", output=True)
    stub = lectern.channel.unary_stream(
        f"/{MARC}/ExportMarc",
        request_serializer=request_class.SerializeToString,
        response_deserializer=response_class.FromString,
    )
    request = json_format.ParseDict({"school_id": school_id, "format": fmt}, request_class())
    return b"".join(
        chunk.data for chunk in stub(request, metadata=[("authorization", f"Bearer {token}")], timeout=60)
    )


def first(record, tag, code):
    values = [value for found in record.get_fields(tag) for value in found.get_subfields(code)]
    return values[0] if values else None


def test_import_then_export_reads_back_in_pymarc(lectern):
    token = login(lectern)
    schools = lectern.call(READERS, "ListSchools", {}, token=token)["schools"]
    school = schools[0]
    rng = random.Random(f"20261129-{time.time_ns()}")
    suffix = "".join(str(rng.randrange(10)) for _ in range(8))
    books = [
        book(
            isbn13(rng),
            "草房子",
            "长篇小说",
            "曹文轩",
            "汪海岚",
            "江苏少年儿童出版社",
            2017,
            "I287.45",
            "895.1352",
            [
                (f"PM{suffix}1", "I287.45/C12", "一楼 A 区 3 架", "book", "25.00"),
                (f"PM{suffix}2", "I287.45/C12", "一楼 A 区 3 架", "book", "25.00"),
            ],
        ),
        book(
            isbn13(rng),
            "Charlotte's web",
            "a story",
            "White, E. B.",
            "任溶溶",
            "Harper & Brothers",
            1952,
            "I712.85",
            "813.54",
            [(f"PM{suffix}3", "I712.85/B31", "二楼 英文书架", "picture_book", "38.50")],
        ),
    ]
    data = b"".join(record.as_marc() for record in books)

    last, rejected = import_file(lectern, token, school["id"], data)
    assert rejected == []
    counts = last["counts"]
    assert counts["records_read"] == "2" and counts["titles_created"] == "2" and counts["copies_created"] == "3"

    iso = export(lectern, token, school["id"], "MARC_FORMAT_ISO2709")
    xml = export(lectern, token, school["id"], "MARC_FORMAT_MARCXML")
    from_iso = list(pymarc.MARCReader(io.BytesIO(iso), to_unicode=True, force_utf8=True))
    from_xml = pymarc.parse_xml_to_array(io.BytesIO(xml))
    assert len(from_iso) == len(from_xml) > 0
    for exported in (from_iso, from_xml):
        by_isbn = {first(record, "020", "a"): record for record in exported}
        for original in books:
            isbn = first(original, "020", "a")
            record = by_isbn[isbn]
            for tag, code in [
                ("245", "a"),
                ("245", "b"),
                ("100", "a"),
                ("264", "b"),
                ("264", "c"),
                ("084", "a"),
                ("084", "2"),
                ("082", "a"),
            ]:
                assert first(record, tag, code) == first(original, tag, code), (isbn, tag, code)
            assert first(record, "700", "a") == first(original, "700", "a")
            assert first(record, "700", "e") == "translator"

            def items(marc):
                return sorted(
                    tuple(found.get_subfields(code)[0] for code in "pocyg") for found in marc.get_fields("952")
                )

            assert items(record) == items(original), isbn
            assert all(found.get_subfields("a") == [school["code"]] for found in record.get_fields("952"))


def test_a_bad_record_is_reported_by_number_and_the_good_one_imported(lectern):
    token = login(lectern)
    school = lectern.call(READERS, "ListSchools", {}, token=token)["schools"][0]
    rng = random.Random(f"20261129-bad-{time.time_ns()}")
    good = book(
        isbn13(rng), "夏洛的网", "", "怀特", "任溶溶", "上海译文出版社", 2004, "I712.85", "813.54",
        [(f"PB{rng.randrange(10**9)}", "I712.85/B31", "二楼", "book", "18.00")],
    )
    broken = bytearray(good.as_marc())
    broken[0:5] = b"12x45"
    last, rejected = import_file(lectern, token, school["id"], bytes(broken) + good.as_marc())
    assert [(result["record"], result["problem"]) for result in rejected] == [
        ("1", "MARC_RECORD_PROBLEM_LEADER")
    ]
    assert last["counts"]["titles_created"] == "1"
