//! Table definitions, matching `migrations/reader`.

diesel::table! {
    schools (id) {
        id -> Text,
        code -> Text,
        name -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    classes (id) {
        id -> Text,
        school_id -> Text,
        name -> Text,
        grade -> Integer,
        school_year -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    reader_categories (code) {
        code -> Text,
        name_zh -> Text,
        name_en -> Text,
        history_retention -> Text,
        history_days -> Nullable<Integer>,
    }
}

diesel::table! {
    readers (id) {
        id -> Text,
        school_id -> Text,
        card_barcode -> Text,
        name -> Text,
        category -> Text,
        class_id -> Nullable<Text>,
        status -> Text,
        expires_on -> Nullable<Date>,
        created_at -> Timestamp,
        number -> Nullable<Text>,
        name_key -> Text,
    }
}

diesel::table! {
    reader_blocks (id) {
        id -> Text,
        reader_id -> Text,
        reason -> Text,
        ends_on -> Nullable<Date>,
        created_at -> Timestamp,
        created_by -> Text,
        lifted_at -> Nullable<Timestamp>,
        lifted_by -> Nullable<Text>,
    }
}

diesel::table! {
    staff_accounts (id) {
        id -> Text,
        username -> Text,
        display_name -> Text,
        role -> Text,
        password_hash -> Text,
        password_change_required -> Bool,
        disabled -> Bool,
        failed_logins -> Integer,
        created_at -> Timestamp,
        password_changed_at -> Nullable<Timestamp>,
        locked_until -> Nullable<Timestamp>,
    }
}

diesel::table! {
    audit_events (id) {
        id -> Text,
        occurred_at -> Timestamp,
        action -> Text,
        outcome -> Text,
        actor_id -> Nullable<Text>,
        subject_id -> Nullable<Text>,
        detail -> Nullable<Text>,
    }
}

diesel::table! {
    signing_keys (key_id) {
        key_id -> Text,
        private_key -> Binary,
        public_key -> Binary,
        created_at -> Timestamp,
        retired_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(classes -> schools (school_id));
diesel::joinable!(readers -> classes (class_id));
diesel::joinable!(readers -> reader_categories (category));
diesel::joinable!(reader_blocks -> readers (reader_id));

diesel::allow_tables_to_appear_in_same_query!(schools, classes, reader_categories, readers, reader_blocks);

diesel::table! {
    reader_credentials (reader_id) {
        reader_id -> Text,
        pin_hash -> Text,
        failed_logins -> Integer,
        locked_until -> Nullable<Timestamp>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    staff_schools (staff_id, school_id) {
        staff_id -> Text,
        school_id -> Text,
    }
}

diesel::table! {
    reader_contacts (id) {
        id -> Text,
        reader_id -> Text,
        who -> Text,
        channel -> Text,
        value -> Text,
        label -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    reader_preferences (reader_id) {
        reader_id -> Text,
        notify_email -> Bool,
        notify_sms -> Bool,
        notify_wechat -> Bool,
        notify_in_app -> Bool,
        language -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    reader_notes (id) {
        id -> Text,
        reader_id -> Text,
        body -> Text,
        author_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    year_end_runs (id) {
        id -> Text,
        school_id -> Text,
        from_school_year -> Text,
        to_school_year -> Text,
        top_grade -> Integer,
        classes_opened -> Integer,
        promoted_students -> Integer,
        graduates -> Integer,
        applied_by -> Text,
        applied_at -> Timestamp,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        subject_id -> Text,
        subject_kind -> Text,
        device_id -> Nullable<Text>,
        refresh_hash -> Text,
        created_at -> Timestamp,
        last_used_at -> Timestamp,
        expires_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
        revoked_reason -> Nullable<Text>,
        binding_id -> Nullable<Text>,
    }
}

diesel::table! {
    spent_refresh_tokens (refresh_hash) {
        refresh_hash -> Text,
        session_id -> Text,
        spent_at -> Timestamp,
    }
}

diesel::table! {
    devices (id) {
        id -> Text,
        school_id -> Text,
        kind -> Text,
        label -> Text,
        key_hash -> Text,
        disabled -> Bool,
        failed_logins -> Integer,
        locked_until -> Nullable<Timestamp>,
        created_at -> Timestamp,
        card_only -> Bool,
        charset -> Text,
        language -> Text,
        crlf -> Bool,
    }
}

diesel::table! {
    wechat_accounts (id) {
        id -> Text,
        app_id -> Text,
        openid -> Text,
        unionid -> Nullable<Text>,
        binding_ticket_hash -> Nullable<Text>,
        binding_ticket_expires_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        last_sign_in_at -> Timestamp,
    }
}

diesel::table! {
    reader_bindings (id) {
        id -> Text,
        account_id -> Text,
        reader_id -> Text,
        relation -> Text,
        proved_by -> Text,
        guardian_contact_id -> Nullable<Text>,
        created_at -> Timestamp,
        last_sign_in_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    binding_codes (id) {
        id -> Text,
        reader_id -> Text,
        code_hash -> Text,
        created_by -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(reader_bindings -> wechat_accounts (account_id));
diesel::joinable!(reader_bindings -> readers (reader_id));
diesel::allow_tables_to_appear_in_same_query!(reader_bindings, wechat_accounts);
diesel::allow_tables_to_appear_in_same_query!(reader_bindings, readers);
