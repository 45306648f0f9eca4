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

/// `lectern.events.v1`: the outbox event envelope and the event sink, the
/// names of the event types the envelope carries, and the names services
/// subscribe under.
pub mod events {
    pub mod v1 {
        tonic::include_proto!("lectern.events.v1");
    }

    /// The `type` of each event (`Event.type`), one per payload.
    pub mod types {
        /// A copy was lent.
        pub const LOAN_CHECKED_OUT: &str = "loan.checked_out";
        /// A copy came back.
        pub const LOAN_RETURNED: &str = "loan.returned";
        /// A loan was renewed.
        pub const LOAN_RENEWED: &str = "loan.renewed";
        /// A returned loan stopped naming its reader.
        pub const LOAN_ANONYMIZED: &str = "loan.anonymized";
        /// A lent copy was declared lost.
        pub const LOAN_LOST: &str = "loan.lost";
        /// A loan's due day was set by hand.
        pub const LOAN_DUE_DATE_CHANGED: &str = "loan.due_date_changed";
        /// The reader says they returned a lent copy.
        pub const LOAN_CLAIMED_RETURNED: &str = "loan.claimed_returned";
        /// A fee was charged.
        pub const FEE_CHARGED: &str = "fee.charged";
        /// Part of a fee was paid, waived or refunded.
        pub const FEE_PAID: &str = "fee.paid";
        pub const FEE_WAIVED: &str = "fee.waived";
        pub const FEE_REFUNDED: &str = "fee.refunded";
        /// Holds: placed, a copy taken for one, on the hold shelf, its copy
        /// released, cancelled.
        pub const HOLD_PLACED: &str = "hold.placed";
        pub const HOLD_TRAPPED: &str = "hold.trapped";
        pub const HOLD_READY: &str = "hold.ready";
        pub const HOLD_RELEASED: &str = "hold.released";
        pub const HOLD_CANCELLED: &str = "hold.cancelled";
        /// A copy left for another school, and arrived.
        pub const TRANSIT_STARTED: &str = "transit.started";
        pub const TRANSIT_RECEIVED: &str = "transit.received";
        /// A reader's personal data was erased.
        pub const READER_ERASED: &str = "reader.erased";
    }

    /// The names under which services subscribe to another service's
    /// events (an outbox delivery row per subscriber), and the `source` of
    /// the events each publishes.
    pub mod subscribers {
        /// The catalog service (availability of copies).
        pub const CATALOG: &str = "catalog";
        /// The circulation service (a reader erased).
        pub const CIRCULATION: &str = "circulation";
        /// The notification service (notices to readers).
        pub const NOTIFICATION: &str = "notification";
        /// The reader service.
        pub const READER: &str = "reader";
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

/// `lectern.circulation.v1`: loans, holds, fees, circulation rules and
/// school calendars.
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
