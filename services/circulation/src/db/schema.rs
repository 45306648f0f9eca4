//! Table definitions, matching `migrations/circulation`.

diesel::table! {
    /// Loans, open and returned, with the snapshot taken at check-out.
    loans (id) {
        id -> Text,
        reader_id -> Nullable<Text>,
        copy_id -> Text,
        copy_barcode -> Text,
        title_id -> Text,
        title -> Text,
        school_id -> Text,
        checked_out_at -> Timestamp,
        due_at -> Timestamp,
        due_date -> Text,
        returned_at -> Nullable<Timestamp>,
        reader_category -> Text,
        reader_class_id -> Nullable<Text>,
        reader_grade -> Integer,
        checked_out_by -> Text,
        checked_in_by -> Nullable<Text>,
        created_at -> Timestamp,
        history_retention -> Text,
        history_days -> Nullable<Integer>,
        anonymize_after -> Nullable<Timestamp>,
        anonymized_at -> Nullable<Timestamp>,
        item_type -> Text,
        rule_id -> Nullable<Text>,
        rule_version -> Nullable<Integer>,
        override_reason -> Nullable<Text>,
        overridden_by -> Nullable<Text>,
        overridden_blocks -> Nullable<Text>,
        suspended_until -> Nullable<Text>,
        renewals -> Integer,
        lost_at -> Nullable<Timestamp>,
        claimed_returned_at -> Nullable<Timestamp>,
        classification -> Text,
    }
}

diesel::table! {
    /// Where each loan's copy was taken back (from the check-in that closed it).
    loan_returns (loan_id) {
        loan_id -> Text,
        school_id -> Text,
        returned_at -> Timestamp,
    }
}

diesel::table! {
    /// Fees readers owe; `outstanding` is what the ledger leaves to pay.
    fees (id) {
        id -> Text,
        reader_id -> Nullable<Text>,
        school_id -> Text,
        loan_id -> Text,
        kind -> Text,
        amount -> BigInt,
        outstanding -> BigInt,
        copy_barcode -> Text,
        title -> Text,
        reader_class_id -> Nullable<Text>,
        reader_grade -> Integer,
        note -> Text,
        created_by -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    /// Payments and waivers of fees.
    fee_entries (id) {
        id -> Text,
        fee_id -> Text,
        kind -> Text,
        amount -> BigInt,
        reason -> Text,
        created_by -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    /// Circulation rules, every version; `in_force` marks the versions in force.
    circulation_rules (id, version) {
        id -> Text,
        version -> Integer,
        in_force -> Bool,
        school_id -> Text,
        reader_category -> Text,
        item_type -> Text,
        name -> Text,
        loanable -> Bool,
        loan_period_unit -> Text,
        loan_period -> Integer,
        max_loans -> Nullable<Integer>,
        max_loans_of_item_type -> Nullable<Integer>,
        renewals -> Integer,
        renewal_period_days -> Integer,
        no_renewal_when_held -> Bool,
        grace_days -> Integer,
        fine_per_open_day -> BigInt,
        fine_cap -> BigInt,
        suspension_days_per_overdue_day -> Integer,
        lost_processing_fee -> BigInt,
        hold_shelf_days -> Integer,
        max_holds -> Integer,
        block_when_overdue_days -> Nullable<Integer>,
        block_when_fees_over -> Nullable<BigInt>,
        updated_by -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    /// Each school's weekly closed days; a school without a row is open every day.
    school_calendars (school_id) {
        school_id -> Text,
        closed_weekdays -> Text,
        updated_by -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    /// Holidays and term breaks of a school.
    school_closures (school_id, first_day, last_day) {
        school_id -> Text,
        first_day -> Text,
        last_day -> Text,
        kind -> Text,
        name -> Text,
    }
}

diesel::table! {
    /// Terms of a school's year.
    school_terms (school_id, first_day) {
        school_id -> Text,
        first_day -> Text,
        last_day -> Text,
        name -> Text,
    }
}

diesel::table! {
    /// Holds: waiting in line, in transit, on the hold shelf, or ended.
    holds (id) {
        id -> Text,
        reader_id -> Nullable<Text>,
        reader_category -> Text,
        title_id -> Text,
        title -> Text,
        wanted_copy_id -> Nullable<Text>,
        copy_id -> Nullable<Text>,
        copy_barcode -> Nullable<Text>,
        copy_item_type -> Nullable<Text>,
        pickup_school_id -> Text,
        status -> Text,
        placed_by -> Text,
        placed_at -> Timestamp,
        ready_at -> Nullable<Timestamp>,
        expires_at -> Nullable<Timestamp>,
        closed_at -> Nullable<Timestamp>,
        closed_by -> Nullable<Text>,
    }
}

diesel::table! {
    /// Copies travelling between schools, until they arrive.
    transits (id) {
        id -> Text,
        copy_id -> Text,
        copy_barcode -> Text,
        title -> Text,
        from_school_id -> Text,
        to_school_id -> Text,
        reason -> Text,
        hold_id -> Nullable<Text>,
        started_at -> Timestamp,
        started_by -> Text,
        received_at -> Nullable<Timestamp>,
        received_by -> Nullable<Text>,
    }
}
