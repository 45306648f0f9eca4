"""What the Python client tests share: a client that knows nothing of
Lectern's .proto files and calls any method by server reflection
(grpcio-reflection speaks the v1alpha protocol), the reason code of a
refused call, and the admin's sign-in; and a client of the JSON API at
`/api/` that remembers which calls it made.

Needs LECTERN_GATEWAY (host:port) and LECTERN_ADMIN_PASSWORD; the JSON API
tests need LECTERN_HTTP (the base URL, http://host:port) too. `.ci/run`
starts `lectern up --demo` and sets them.
"""

import http.cookiejar
import json
import os

import grpc
import pytest
import requests
from google.protobuf import descriptor_pool, json_format, message_factory
from google.rpc import error_details_pb2
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
    ProtoReflectionDescriptorDatabase,
)
from grpc_status import rpc_status

GATEWAY = os.environ.get("LECTERN_GATEWAY", "")
PASSWORD = os.environ.get("LECTERN_ADMIN_PASSWORD", "")
HTTP = os.environ.get("LECTERN_HTTP", "").rstrip("/")


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


# --- The JSON API (`lectern up --http-listen`) ---


@pytest.fixture(scope="module")
def api():
    if not HTTP or not PASSWORD:
        pytest.fail("LECTERN_HTTP and LECTERN_ADMIN_PASSWORD must be set (see .ci/run)")
    session = requests.Session()
    # A script holds its bearer token; a session cookie would make the
    # gateway treat it as a browser (and ask for a CSRF token).
    session.cookies.set_policy(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
    yield JsonApi(HTTP, session)
    session.close()


class JsonApi:
    """Calls `POST /api/<package.Service>/<Method>` with JSON, uploads and
    downloads files, and remembers which methods answered 200."""

    def __init__(self, base, session):
        self.base = base
        self.session = session
        self.called = set()

    def post(self, method, body=None, token=None, data=None, headers=None):
        """The raw answer to a call: `body` is sent as JSON, or `data` as is."""
        sent = {"Content-Type": "application/json"}
        if token:
            sent["Authorization"] = f"Bearer {token}"
        sent.update(headers or {})
        if data is None:
            data = json.dumps(body if body is not None else {}).encode()
        return self.session.post(f"{self.base}/api/{method}", data=data, headers=sent, timeout=30)

    def call(self, method, body=None, token=None):
        """The answer to a call that must succeed, as a dict."""
        answer = self.post(method, body, token)
        assert answer.status_code == 200, f"{method} {body}: {answer.status_code} {answer.text}"
        assert answer.headers["Content-Type"].startswith("application/json")
        self.called.add(method)
        return answer.json()

    def refused(self, method, body, token, status):
        """The error body of a call that must fail with HTTP `status`."""
        answer = self.post(method, body, token)
        assert answer.status_code == status, f"{method} {body}: {answer.status_code} {answer.text}"
        return answer.json()

    def upload(self, method, params, data, token, headers=None):
        """`POST /api/upload/<method>`: the raw answer (NDJSON when 200)."""
        sent = {"Authorization": f"Bearer {token}", **(headers or {})}
        answer = self.session.post(
            f"{self.base}/api/upload/{method}", params=params, data=data, headers=sent, timeout=60
        )
        if answer.status_code == 200:
            self.called.add(method)
        return answer

    def download(self, method, params, token):
        """`GET /api/download/<method>`: the raw answer (the file when 200)."""
        answer = self.session.get(
            f"{self.base}/api/download/{method}",
            params=params,
            headers={"Authorization": f"Bearer {token}"},
            timeout=60,
        )
        if answer.status_code == 200:
            self.called.add(method)
        return answer

    def login(self, credentials):
        return self.call("lectern.gateway.v1.GatewayService/Login", credentials)

    def admin_token(self):
        return self.login({"staff": {"username": "admin", "password": PASSWORD}})["accessToken"]
