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

// --- Search index and discovery lists (migration 2026-11-29-300000_catalog_search) ---

diesel::table! {
    /// Index entries of titles: two-character windows of ideograph text,
    /// run ends, whole words (see `search_terms`).
    title_search_terms (term, title_id) {
        term -> Text,
        title_id -> Text,
    }
}

diesel::table! {
    /// Lower-cased text of each field a search can be limited to.
    title_search_fields (title_id) {
        title_id -> Text,
        title_text -> Text,
        author_text -> Text,
        subject_text -> Text,
    }
}

diesel::table! {
    /// Check-outs per title, school and grade, from loan events.
    title_checkouts (loan_id) {
        loan_id -> Text,
        title_id -> Text,
        school_id -> Text,
        grade -> Nullable<Integer>,
        checked_out_at -> Timestamp,
    }
}

diesel::joinable!(title_search_fields -> titles (title_id));
diesel::allow_tables_to_appear_in_same_query!(title_search_terms, title_search_fields, title_checkouts);
diesel::allow_tables_to_appear_in_same_query!(titles, title_search_terms);
diesel::allow_tables_to_appear_in_same_query!(titles, title_search_fields);
diesel::allow_tables_to_appear_in_same_query!(titles, title_checkouts);
diesel::allow_tables_to_appear_in_same_query!(copies, title_search_terms);
diesel::allow_tables_to_appear_in_same_query!(copies, title_search_fields);
diesel::allow_tables_to_appear_in_same_query!(copies, title_checkouts);
