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
        subtitle -> Text,
        edition -> Text,
        pages -> Integer,
        series -> Text,
        summary -> Text,
        audience_min_grade -> Nullable<Integer>,
        audience_max_grade -> Nullable<Integer>,
        clc -> Text,
        dewey -> Text,
        call_number -> Text,
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
        location_id -> Nullable<Text>,
        item_type -> Text,
        price_minor -> Nullable<BigInt>,
        currency -> Text,
        acquired_on -> Nullable<Date>,
        acquisition_source -> Text,
        condition_note -> Text,
        on_hold_shelf -> Bool,
        in_transit -> Bool,
        status_changed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    /// Subject headings of a title, in order.
    title_subjects (title_id, position) {
        title_id -> Text,
        position -> Integer,
        subject -> Text,
    }
}

diesel::table! {
    /// Every ISBN of a title, the primary one included.
    title_isbns (isbn13) {
        isbn13 -> Text,
        title_id -> Text,
    }
}

diesel::table! {
    /// Kinds of copy (book, picture book, magazine, …); circulation rules
    /// key on them.
    item_types (code) {
        code -> Text,
        name_zh -> Text,
        name_en -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    /// Shelf locations of each school's library.
    shelf_locations (id) {
        id -> Text,
        school_id -> Text,
        name -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    /// Who changed a copy's status, when and why.
    copy_status_history (id) {
        id -> Text,
        copy_id -> Text,
        from_status -> Text,
        to_status -> Text,
        reason -> Text,
        actor_id -> Text,
        repair_ticket_id -> Nullable<Text>,
        occurred_at -> Timestamp,
    }
}

diesel::table! {
    /// Repairs of damaged copies.
    repair_tickets (id) {
        id -> Text,
        copy_id -> Text,
        notes -> Text,
        cost_minor -> BigInt,
        currency -> Text,
        opened_by -> Text,
        opened_at -> Timestamp,
        closed_by -> Nullable<Text>,
        closed_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(title_contributors -> titles (title_id));
diesel::joinable!(title_subjects -> titles (title_id));
diesel::joinable!(title_isbns -> titles (title_id));
diesel::joinable!(copies -> titles (title_id));
diesel::joinable!(copies -> shelf_locations (location_id));
diesel::joinable!(copy_status_history -> copies (copy_id));
diesel::joinable!(repair_tickets -> copies (copy_id));
diesel::allow_tables_to_appear_in_same_query!(
    titles,
    title_contributors,
    title_subjects,
    title_isbns,
    copies,
    item_types,
    shelf_locations,
    copy_status_history,
    repair_tickets,
);

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
// --- Search index and discovery lists (migration 2026-11-29-300000_catalog_search) ---

diesel::table! {
    /// Index entries of titles: two-character windows of ideograph text,
    /// run ends, words and word prefixes (see `search_terms`), each with its
    /// title's key (migration 2026-11-29-500000_catalog_search_ranked).
    title_search_terms (term, title_key, title_id) {
        term -> Text,
        title_key -> Text,
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
        title_key -> Text,
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
diesel::allow_tables_to_appear_in_same_query!(title_isbns, title_search_fields);
