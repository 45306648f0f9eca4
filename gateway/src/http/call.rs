//! Calls into the gateway's own gRPC stack from the HTTP edge, without a
//! network hop: the same authentication layer, the same method table and
//! the same forwarding as a gRPC client gets, so JSON and gRPC cannot
//! answer differently. Typed clients (`IdentityServiceClient<Calls>`) run
//! over it for the pages; the JSON API uses dynamic messages through
//! [`DynamicCodec`].

use std::convert::Infallible;

use http::{Request, Response};
use prost::Message as _;
use prost_reflect::{DynamicMessage, MessageDescriptor};
use tonic::Status;
use tonic::body::Body;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tower::util::BoxCloneSyncService;

/// The gateway's gRPC routes behind its authentication layer, callable in
/// process.
pub type Calls = BoxCloneSyncService<Request<Body>, Response<Body>, Infallible>;

/// Encodes dynamic requests and decodes responses of one message type.
#[derive(Debug, Clone)]
pub struct DynamicCodec {
    output: MessageDescriptor,
}

impl DynamicCodec {
    /// A codec whose responses are `output` messages.
    pub fn new(output: MessageDescriptor) -> Self {
        Self { output }
    }
}

impl Codec for DynamicCodec {
    type Encode = DynamicMessage;
    type Decode = DynamicMessage;
    type Encoder = DynamicEncoder;
    type Decoder = DynamicDecoder;

    fn encoder(&mut self) -> Self::Encoder {
        DynamicEncoder
    }

    fn decoder(&mut self) -> Self::Decoder {
        DynamicDecoder(self.output.clone())
    }
}

/// Encodes any dynamic message.
#[derive(Debug, Clone, Copy)]
pub struct DynamicEncoder;

impl Encoder for DynamicEncoder {
    type Item = DynamicMessage;
    type Error = Status;

    fn encode(&mut self, item: DynamicMessage, destination: &mut EncodeBuf<'_>) -> Result<(), Status> {
        item.encode(destination)
            .map_err(|error| Status::internal(format!("cannot encode the request: {error}")))
    }
}

/// Decodes messages of one type.
#[derive(Debug, Clone)]
pub struct DynamicDecoder(MessageDescriptor);

impl Decoder for DynamicDecoder {
    type Item = DynamicMessage;
    type Error = Status;

    fn decode(&mut self, source: &mut DecodeBuf<'_>) -> Result<Option<DynamicMessage>, Status> {
        DynamicMessage::decode(self.0.clone(), source)
            .map(Some)
            .map_err(|error| Status::internal(format!("cannot decode the answer: {error}")))
    }
}
