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
        subject -> Nullable<Text>,
        body -> Nullable<Text>,
    }
}

diesel::table! {
    loan_schedules (loan_id) {
        loan_id -> Text,
        school_id -> Text,
        reader_id -> Text,
        title -> Text,
        copy_barcode -> Text,
        due_date -> Text,
        state -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    hold_schedules (hold_id) {
        hold_id -> Text,
        school_id -> Text,
        reader_id -> Text,
        title -> Text,
        expires_on -> Text,
        state -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    reminders (id) {
        id -> Text,
        school_id -> Text,
        reader_id -> Text,
        subject_id -> Text,
        trigger_name -> Text,
        title -> Text,
        due_date -> Nullable<Text>,
        amount_minor -> Nullable<BigInt>,
        currency -> Nullable<Text>,
        state -> Text,
        day -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    deliveries (id) {
        id -> Text,
        reminder_id -> Text,
        school_id -> Text,
        reader_id -> Text,
        reader_name -> Text,
        trigger_name -> Text,
        channel -> Text,
        recipient -> Text,
        contact_id -> Text,
        address -> Text,
        language -> Text,
        state -> Text,
        attempts -> Integer,
        last_error -> Text,
        provider_id -> Text,
        subject -> Text,
        message_id -> Text,
        next_attempt_at -> Timestamp,
        lease_holder -> Nullable<Text>,
        lease_until -> Nullable<Timestamp>,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    reminder_settings (school_id) {
        school_id -> Text,
        due_soon_days -> Integer,
        due_today -> Bool,
        overdue_days -> Text,
        hold_expiring_days -> Integer,
        open_days_only -> Bool,
        send_on_closed_days -> Bool,
        quiet_hours_start -> Text,
        quiet_hours_end -> Text,
        daily_cap_email -> Integer,
        daily_cap_webhook -> Integer,
        homeroom_teacher_overdue -> Bool,
        sender_name -> Text,
        from_address -> Text,
        reply_to -> Text,
        library_hours -> Text,
        updated_by -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    reminder_templates (school_id, trigger_name, language) {
        school_id -> Text,
        trigger_name -> Text,
        language -> Text,
        subject -> Text,
        body -> Text,
        updated_by -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    opt_outs (channel, address) {
        channel -> Text,
        address -> Text,
        created_at -> Timestamp,
    }
}

diesel::joinable!(deliveries -> reminders (reminder_id));
diesel::allow_tables_to_appear_in_same_query!(
    notices,
    loan_schedules,
    hold_schedules,
    reminders,
    deliveries,
    reminder_settings,
    reminder_templates,
    opt_outs,
);
