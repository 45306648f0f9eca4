"""A Python client that knows nothing of Lectern's .proto files drives a
running `lectern up --demo` through the gateway, by server reflection only
(grpcio-reflection speaks the v1alpha protocol), the way a school's IT
person would script it.

Needs LECTERN_GATEWAY (host:port) and LECTERN_ADMIN_PASSWORD; `.ci/run`
starts the suite and sets both.
"""

import grpc
import pytest
from conftest import login, reason


def test_reflection_lists_the_public_services(lectern):
    services = lectern.services()
    for name in [
        "lectern.gateway.v1.GatewayService",
        "lectern.catalog.v1.CatalogService",
        "lectern.circulation.v1.LoanService",
        "lectern.reader.v1.ReaderService",
        "lectern.notification.v1.NotificationService",
    ]:
        assert name in services


def test_calls_without_a_token_are_unauthenticated(lectern):
    with pytest.raises(grpc.RpcError) as raised:
        lectern.call("lectern.catalog.v1.CatalogService", "SearchTitles", {"query": "森林"})
    assert raised.value.code() == grpc.StatusCode.UNAUTHENTICATED


def test_search_check_out_and_refusal_by_reflection(lectern):
    token = login(lectern)
    found = lectern.call(
        "lectern.catalog.v1.CatalogService", "SearchTitles", {"query": "夏洛的网"}, token
    )
    hits = found.get("hits", [])
    assert hits, "the demo catalog has 夏洛的网"
    on_shelf = [
        copy
        for hit in hits
        for copy in hit.get("copies", [])
        if copy.get("availability") == "AVAILABILITY_ON_SHELF"
    ]
    assert on_shelf, "a copy of 夏洛的网 is on the shelf"
    barcode = on_shelf[0]["barcode"]

    readers = lectern.call(
        "lectern.reader.v1.ReaderService", "LookupReader", {"card_barcode": "R200001"}, token
    )
    loan = lectern.call(
        "lectern.circulation.v1.LoanService",
        "CheckOut",
        {"reader_card_barcode": readers["card_barcode"], "copy_barcode": barcode},
        token,
    )["loan"]
    assert loan["copy_barcode"] == barcode
    assert len(loan["due_date"]) == 10

    with pytest.raises(grpc.RpcError) as raised:
        lectern.call(
            "lectern.circulation.v1.LoanService",
            "CheckOut",
            {"reader_card_barcode": "R200002", "copy_barcode": barcode},
            token,
        )
    assert raised.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert reason(raised.value) == "COPY_ALREADY_ON_LOAN"

    returned = lectern.call(
        "lectern.circulation.v1.LoanService", "CheckIn", {"copy_barcode": barcode}, token
    )
    assert returned["was_on_loan"] is True
