//! Tables every service has, created by `migrations/common`.

diesel::table! {
    /// Events waiting to be (or already) delivered, in publication order.
    outbox_events (seq) {
        seq -> BigInt,
        event_id -> Text,
        event_type -> Text,
        subject -> Text,
        payload -> Binary,
        created_at -> Timestamp,
    }
}

diesel::table! {
    /// One row per event and subscriber: whether it has been delivered.
    outbox_deliveries (subscriber, seq) {
        seq -> BigInt,
        subscriber -> Text,
        delivered_at -> Nullable<Timestamp>,
        attempts -> Integer,
        last_error -> Nullable<Text>,
    }
}

diesel::table! {
    /// Which relay replica delivers to a subscriber, until when.
    relay_leases (subscriber) {
        subscriber -> Text,
        holder -> Text,
        lease_until -> Timestamp,
    }
}

diesel::table! {
    /// Events this service has consumed, so repeats are ignored.
    consumed_events (event_id) {
        event_id -> Text,
        event_type -> Text,
        consumed_at -> Timestamp,
    }
}

diesel::table! {
    /// Answers to state-changing calls, by client request id.
    idempotency_keys (request_id) {
        request_id -> Text,
        operation -> Text,
        response -> Nullable<Binary>,
        created_at -> Timestamp,
    }
}

diesel::joinable!(outbox_deliveries -> outbox_events (seq));
diesel::allow_tables_to_appear_in_same_query!(outbox_events, outbox_deliveries);
