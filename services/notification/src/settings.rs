//! A school's reminder settings: the days of each trigger, how days are
//! counted, closed days, quiet hours, daily caps, who hears of overdue
//! books, and the sender of its e-mails. A school that never saved any has
//! the defaults, which are what most schools want.

use chrono::{NaiveDateTime, NaiveTime};
use diesel::prelude::*;
use lectern_common::db::DbConnection;
use lectern_core::time::timestamp;
use lectern_core::validate::FieldError;
use lectern_proto::notification::v1::{DayCounting, ReminderSettings};

use crate::db::schema::reminder_settings;

/// A school's reminder settings as the planner and the sender use them.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = reminder_settings)]
pub struct SchoolSettings {
    pub school_id: String,
    /// Days before the due day; 0: no "due soon" reminder.
    pub due_soon_days: i32,
    pub due_today: bool,
    /// Comma-separated ascending days after the due day, e.g. "1,7,14"
    /// (see [`SchoolSettings::overdue_days`]).
    pub overdue_days: String,
    pub hold_expiring_days: i32,
    /// Count in open days (the school calendar) instead of calendar days.
    pub open_days_only: bool,
    pub send_on_closed_days: bool,
    /// "HH:MM", local time; equal means no quiet hours.
    pub quiet_hours_start: String,
    pub quiet_hours_end: String,
    pub daily_cap_email: i32,
    pub daily_cap_webhook: i32,
    pub homeroom_teacher_overdue: bool,
    /// Empty: the school's name.
    pub sender_name: String,
    /// Empty: the district's (`LECTERN_SMTP_FROM`).
    pub from_address: String,
    pub reply_to: String,
    pub library_hours: String,
    /// Empty while the defaults apply.
    pub updated_by: String,
    pub updated_at: NaiveDateTime,
}

impl SchoolSettings {
    /// The defaults of a school that never saved settings.
    pub fn defaults(school_id: &str) -> Self {
        Self {
            school_id: school_id.to_owned(),
            due_soon_days: 2,
            due_today: true,
            overdue_days: "1,7,14".into(),
            hold_expiring_days: 1,
            open_days_only: false,
            send_on_closed_days: false,
            quiet_hours_start: "21:00".into(),
            quiet_hours_end: "07:30".into(),
            daily_cap_email: 2000,
            daily_cap_webhook: 2000,
            homeroom_teacher_overdue: true,
            sender_name: String::new(),
            from_address: String::new(),
            reply_to: String::new(),
            library_hours: String::new(),
            updated_by: String::new(),
            updated_at: NaiveDateTime::default(),
        }
    }

    /// The days after the due day of the first, second and third overdue
    /// reminder (fewer when the school turned later ones off).
    pub fn overdue_days(&self) -> Vec<i32> {
        self.overdue_days.split(',').filter_map(|day| day.trim().parse().ok()).collect()
    }

    /// Quiet hours as local times; `None` when they are off.
    pub fn quiet_hours(&self) -> Option<(NaiveTime, NaiveTime)> {
        let start = NaiveTime::parse_from_str(&self.quiet_hours_start, "%H:%M").ok()?;
        let end = NaiveTime::parse_from_str(&self.quiet_hours_end, "%H:%M").ok()?;
        (start != end).then_some((start, end))
    }

    /// As the API shows them.
    pub fn to_proto(&self) -> ReminderSettings {
        let saved = !self.updated_by.is_empty();
        ReminderSettings {
            school_id: self.school_id.clone(),
            due_soon_days: self.due_soon_days,
            due_today: self.due_today,
            overdue_days: self.overdue_days(),
            hold_expiring_days: self.hold_expiring_days,
            day_counting: if self.open_days_only { DayCounting::OpenDays } else { DayCounting::CalendarDays }
                .into(),
            send_on_closed_days: self.send_on_closed_days,
            quiet_hours_start: self.quiet_hours_start.clone(),
            quiet_hours_end: self.quiet_hours_end.clone(),
            daily_cap_email: self.daily_cap_email,
            daily_cap_webhook: self.daily_cap_webhook,
            homeroom_teacher_overdue: self.homeroom_teacher_overdue,
            sender_name: self.sender_name.clone(),
            from_address: self.from_address.clone(),
            reply_to: self.reply_to.clone(),
            library_hours: self.library_hours.clone(),
            updated_by: self.updated_by.clone(),
            update_time: saved.then(|| timestamp(self.updated_at)),
        }
    }

    /// Reads settings a librarian sent, checking each field; `updated_by`
    /// and `updated_at` are filled in by the caller.
    pub fn from_proto(settings: ReminderSettings) -> Result<Self, FieldError> {
        let days = |field: &'static str, value: i32| {
            if (0..=60).contains(&value) {
                Ok(value)
            } else {
                Err(FieldError::new(field, "must be between 0 and 60 days"))
            }
        };
        let overdue = settings.overdue_days;
        if overdue.len() > 3 {
            return Err(FieldError::new("overdue_days", "at most three overdue reminders"));
        }
        if overdue.iter().any(|day| !(1..=120).contains(day)) {
            return Err(FieldError::new(
                "overdue_days",
                "each must be between 1 and 120 days after the due day",
            ));
        }
        if overdue.windows(2).any(|pair| pair[0] >= pair[1]) {
            return Err(FieldError::new("overdue_days", "must go up: the second after the first"));
        }
        let time = |field: &'static str, value: &str| {
            NaiveTime::parse_from_str(value.trim(), "%H:%M")
                .map(|time| time.format("%H:%M").to_string())
                .map_err(|_| FieldError::new(field, "must be a time like 21:00"))
        };
        let cap = |field: &'static str, value: i32| {
            if (0..=1_000_000).contains(&value) {
                Ok(value)
            } else {
                Err(FieldError::new(field, "must be between 0 and 1000000"))
            }
        };
        let address = |field: &'static str, value: &str| {
            let value = value.trim();
            if value.is_empty()
                || (value.len() <= 254 && value.contains('@') && !value.contains(char::is_whitespace))
            {
                Ok(value.to_owned())
            } else {
                Err(FieldError::new(field, "must be an e-mail address"))
            }
        };
        let text = |field: &'static str, value: &str, most: usize| {
            let value = value.trim();
            if value.chars().count() <= most {
                Ok(value.to_owned())
            } else {
                Err(FieldError::new(field, format!("at most {most} characters")))
            }
        };
        let day_counting = DayCounting::try_from(settings.day_counting)
            .map_err(|_| FieldError::new("day_counting", "unknown way of counting days"))?;
        Ok(Self {
            school_id: settings.school_id,
            due_soon_days: days("due_soon_days", settings.due_soon_days)?,
            due_today: settings.due_today,
            overdue_days: overdue.iter().map(i32::to_string).collect::<Vec<_>>().join(","),
            hold_expiring_days: days("hold_expiring_days", settings.hold_expiring_days)?,
            open_days_only: day_counting == DayCounting::OpenDays,
            send_on_closed_days: settings.send_on_closed_days,
            quiet_hours_start: time("quiet_hours_start", &settings.quiet_hours_start)?,
            quiet_hours_end: time("quiet_hours_end", &settings.quiet_hours_end)?,
            daily_cap_email: cap("daily_cap_email", settings.daily_cap_email)?,
            daily_cap_webhook: cap("daily_cap_webhook", settings.daily_cap_webhook)?,
            homeroom_teacher_overdue: settings.homeroom_teacher_overdue,
            sender_name: text("sender_name", &settings.sender_name, 60)?,
            from_address: address("from_address", &settings.from_address)?,
            reply_to: address("reply_to", &settings.reply_to)?,
            library_hours: text("library_hours", &settings.library_hours, 200)?,
            updated_by: String::new(),
            updated_at: NaiveDateTime::default(),
        })
    }
}

/// A school's settings, or the defaults.
pub fn load(connection: &mut DbConnection, school_id: &str) -> QueryResult<SchoolSettings> {
    let saved = reminder_settings::table
        .find(school_id)
        .select(SchoolSettings::as_select())
        .first(connection)
        .optional()?;
    Ok(saved.unwrap_or_else(|| SchoolSettings::defaults(school_id)))
}

/// Saves a school's settings whole.
pub fn save(connection: &mut DbConnection, settings: &SchoolSettings) -> QueryResult<()> {
    let updated = diesel::update(reminder_settings::table.find(&settings.school_id))
        .set(settings)
        .execute(connection)?;
    if updated == 0 {
        diesel::insert_into(reminder_settings::table).values(settings).execute(connection)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_read_back_from_the_api_unchanged() {
        let defaults = SchoolSettings::defaults("school-1");
        assert_eq!(defaults.overdue_days(), vec![1, 7, 14]);
        assert!(defaults.quiet_hours().is_some());
        let again = SchoolSettings::from_proto(defaults.to_proto()).unwrap();
        assert_eq!(again, defaults);
    }

    #[test]
    fn bad_settings_name_their_field() {
        let mut settings = SchoolSettings::defaults("school-1").to_proto();
        settings.overdue_days = vec![7, 1];
        assert_eq!(SchoolSettings::from_proto(settings.clone()).unwrap_err().field, "overdue_days");
        settings.overdue_days = vec![1];
        settings.quiet_hours_start = "9pm".into();
        assert_eq!(SchoolSettings::from_proto(settings).unwrap_err().field, "quiet_hours_start");
    }
}
