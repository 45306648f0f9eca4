//! Table definitions, matching `migrations/notification`.

diesel::table! {
    notices (id) {
        id -> Text,
        reader_id -> Text,
        school_id -> Text,
        event_id -> Text,
        loan_id -> Text,
        kind -> Text,
        title -> Text,
        due_date -> Nullable<Text>,
        occurred_at -> Timestamp,
        created_at -> Timestamp,
    }
}
