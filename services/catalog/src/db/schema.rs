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

// --- Stocktake sessions (migration 2026-11-29-400000_catalog_stocktake) ---

diesel::table! {
    /// Stocktake sessions of a school.
    stocktakes (id) {
        id -> Text,
        school_id -> Text,
        name -> Text,
        state -> Text,
        open_key -> Nullable<Text>,
        started_by -> Text,
        started_at -> Timestamp,
        closed_by -> Nullable<Text>,
        closed_at -> Nullable<Timestamp>,
        version -> BigInt,
        marked_missing -> Integer,
    }
}

diesel::table! {
    /// The shelf locations a session counts.
    stocktake_locations (stocktake_id, location_id) {
        stocktake_id -> Text,
        location_id -> Text,
    }
}

diesel::table! {
    /// A session's copies and their scans.
    stocktake_items (stocktake_id, copy_id) {
        stocktake_id -> Text,
        copy_id -> Text,
        barcode -> Text,
        in_scope -> Bool,
        scanned_at -> Nullable<Timestamp>,
        scanned_by -> Nullable<Text>,
        scanned_location_id -> Nullable<Text>,
        misplaced -> Bool,
        mismatch -> Text,
        marked_missing -> Bool,
    }
}

diesel::table! {
    /// Scanned barcodes that are not the school's copies.
    stocktake_unknown_barcodes (stocktake_id, barcode) {
        stocktake_id -> Text,
        barcode -> Text,
        reason -> Text,
        copy_id -> Nullable<Text>,
        holding_school_id -> Nullable<Text>,
        scanned_at -> Timestamp,
        scanned_by -> Text,
        scanned_location_id -> Nullable<Text>,
    }
}

diesel::joinable!(stocktake_locations -> stocktakes (stocktake_id));
diesel::joinable!(stocktake_items -> stocktakes (stocktake_id));
diesel::joinable!(stocktake_items -> copies (copy_id));
diesel::joinable!(stocktake_unknown_barcodes -> stocktakes (stocktake_id));
diesel::allow_tables_to_appear_in_same_query!(
    stocktakes,
    stocktake_locations,
    stocktake_items,
    stocktake_unknown_barcodes
);
diesel::allow_tables_to_appear_in_same_query!(stocktake_items, copies);
diesel::allow_tables_to_appear_in_same_query!(stocktake_items, titles);
diesel::allow_tables_to_appear_in_same_query!(stocktake_items, shelf_locations);
diesel::allow_tables_to_appear_in_same_query!(stocktake_locations, copies);
diesel::allow_tables_to_appear_in_same_query!(stocktake_locations, shelf_locations);
