"""A Python client that knows nothing of Lectern's .proto files drives a
running `lectern up --demo` through the gateway, by server reflection only
(grpcio-reflection speaks the v1alpha protocol), the way a school's IT
person would script it.

Needs LECTERN_GATEWAY (host:port) and LECTERN_ADMIN_PASSWORD; `.ci/run`
starts the suite and sets both.
"""

import os

import grpc
import pytest
from google.protobuf import descriptor_pool, json_format, message_factory
from google.rpc import error_details_pb2
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
    ProtoReflectionDescriptorDatabase,
)
from grpc_status import rpc_status

GATEWAY = os.environ.get("LECTERN_GATEWAY", "")
PASSWORD = os.environ.get("LECTERN_ADMIN_PASSWORD", "")


@pytest.fixture(scope="module")
def lectern():
    if not GATEWAY or not PASSWORD:
        pytest.fail("LECTERN_GATEWAY and LECTERN_ADMIN_PASSWORD must be set (see .ci/run)")
    channel = grpc.insecure_channel(GATEWAY)
    grpc.channel_ready_future(channel).result(timeout=30)
    database = ProtoReflectionDescriptorDatabase(channel)
    pool = descriptor_pool.DescriptorPool(database)
    client = Client(channel, pool, database)
    yield client
    channel.close()


class Client:
    """Calls any method by name, with messages built from reflected descriptors."""

    def __init__(self, channel, pool, database):
        self.channel = channel
        self.pool = pool
        self.database = database
        self.token = None

    def services(self):
        return set(self.database.get_services())

    def call(self, service, method, request, token=None):
        descriptor = self.pool.FindServiceByName(service).FindMethodByName(method)
        request_class = message_factory.GetMessageClass(descriptor.input_type)
        response_class = message_factory.GetMessageClass(descriptor.output_type)
        stub = self.channel.unary_unary(
            f"/{service}/{method}",
            request_serializer=request_class.SerializeToString,
            response_deserializer=response_class.FromString,
        )
        metadata = [("authorization", f"Bearer {token}")] if token else []
        message = json_format.ParseDict(request, request_class())
        response = stub(message, metadata=metadata, timeout=10)
        return json_format.MessageToDict(response, preserving_proto_field_name=True)


def reason(error):
    """The Lectern reason code carried in a refused call's status details."""
    status = rpc_status.from_call(error)
    for detail in status.details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            return info.reason
    return None


def login(lectern):
    answer = lectern.call(
        "lectern.gateway.v1.GatewayService",
        "Login",
        {"staff": {"username": "admin", "password": PASSWORD}},
    )
    return answer["access_token"]


def test_reflection_lists_the_public_services(lectern):
    services = lectern.services()
    for name in [
        "lectern.gateway.v1.GatewayService",
        "lectern.catalog.v1.CatalogService",
        "lectern.circulation.v1.CirculationService",
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
        "lectern.circulation.v1.CirculationService",
        "CheckOut",
        {"reader_card_barcode": readers["card_barcode"], "copy_barcode": barcode},
        token,
    )["loan"]
    assert loan["copy_barcode"] == barcode
    assert len(loan["due_date"]) == 10

    with pytest.raises(grpc.RpcError) as raised:
        lectern.call(
            "lectern.circulation.v1.CirculationService",
            "CheckOut",
            {"reader_card_barcode": "R200002", "copy_barcode": barcode},
            token,
        )
    assert raised.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert reason(raised.value) == "COPY_ALREADY_ON_LOAN"

    returned = lectern.call(
        "lectern.circulation.v1.CirculationService", "CheckIn", {"copy_barcode": barcode}, token
    )
    assert returned["was_on_loan"] is True
