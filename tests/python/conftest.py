"""What the Python client tests share: a client that knows nothing of
Lectern's .proto files and calls any method by server reflection
(grpcio-reflection speaks the v1alpha protocol), the reason code of a
refused call, and the admin's sign-in.

Needs LECTERN_GATEWAY (host:port) and LECTERN_ADMIN_PASSWORD; `.ci/run`
starts `lectern up --demo` and sets both.
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
