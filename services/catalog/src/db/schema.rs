//! Table definitions, matching `migrations/catalog`.

diesel::table! {
    /// Bibliographic records.
    titles (id) {
        id -> Text,
        isbn13 -> Nullable<Text>,
        title -> Text,
        publisher -> Text,
        publication_year -> Integer,
        language -> Text,
        search_text -> Text,
        title_key -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    /// Contributors of a title, in printed order.
    title_contributors (title_id, position) {
        title_id -> Text,
        position -> Integer,
        name -> Text,
        role -> Text,
    }
}

diesel::table! {
    /// Physical copies, with the availability view kept from loan events.
    copies (id) {
        id -> Text,
        title_id -> Text,
        barcode -> Text,
        school_id -> Text,
        status -> Text,
        call_number -> Text,
        created_at -> Timestamp,
        on_loan -> Bool,
        loan_due_at -> Nullable<Timestamp>,
        loan_event_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(title_contributors -> titles (title_id));
diesel::joinable!(copies -> titles (title_id));
diesel::allow_tables_to_appear_in_same_query!(titles, title_contributors, copies);

// --- MARC import (migration 2026-11-29-200000_catalog_marc) ---

diesel::table! {
    /// Imported MARC records by ISBN: the local metadata source of intake.
    marc_pool (isbn13) {
        isbn13 -> Text,
        title -> Text,
        flavour -> Text,
        record_xml -> Text,
        source -> Text,
        updated_at -> Timestamp,
    }
}
