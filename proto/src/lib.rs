//! Lectern's public gRPC API, generated from `proto/lectern/**.proto`.
//!
//! Every service, the gateway and the `lectern` CLI use these types; no other
//! crate runs code generation. [`FILE_DESCRIPTOR_SET`] feeds gRPC reflection.

#![allow(clippy::doc_lazy_continuation, clippy::large_enum_variant)]

/// The encoded `FileDescriptorSet` of every Lectern .proto, for reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/lectern_descriptor.bin"));

/// `lectern.common.v1`: the reason codes of refused operations.
pub mod common {
    pub mod v1 {
        tonic::include_proto!("lectern.common.v1");
    }
}

/// `lectern.events.v1`: the outbox event envelope and the event sink.
pub mod events {
    pub mod v1 {
        tonic::include_proto!("lectern.events.v1");
    }
}

/// `lectern.reader.v1`: schools, classes, readers and identity.
pub mod reader {
    pub mod v1 {
        tonic::include_proto!("lectern.reader.v1");
    }
}

/// `lectern.catalog.v1`: titles, copies and search.
pub mod catalog {
    pub mod v1 {
        tonic::include_proto!("lectern.catalog.v1");
    }
}

/// `lectern.circulation.v1`: check-out, check-in and loans.
pub mod circulation {
    pub mod v1 {
        tonic::include_proto!("lectern.circulation.v1");
    }
}

/// `lectern.notification.v1`: readers' notices.
pub mod notification {
    pub mod v1 {
        tonic::include_proto!("lectern.notification.v1");
    }
}

/// `lectern.gateway.v1`: calls that only make sense at the edge.
pub mod gateway {
    pub mod v1 {
        tonic::include_proto!("lectern.gateway.v1");
    }
}
