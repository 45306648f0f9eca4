//! The first district admin. A fresh district has no staff account, so
//! nobody could sign in to create one: the first start creates `admin`
//! with a one-time password (random, or the operator's
//! `LECTERN_BOOTSTRAP_ADMIN_PASSWORD`) that must be changed at first
//! sign-in.

use lectern_common::db::{Db, unique_violation_on};
use lectern_core::config::ConfigError;
use lectern_core::identity::Role;
use lectern_core::server::ServeError;

use crate::config::Config;
use crate::db::{self, StaffRow};
use crate::error::Error;
use crate::passwords;

/// The first admin's username.
pub const ADMIN_USERNAME: &str = "admin";
const ADMIN_DISPLAY_NAME: &str = "District admin";

/// The first district admin and their generated one-time password.
/// `Debug` leaves the password out.
#[derive(Clone, PartialEq, Eq)]
pub struct FirstAdmin {
    /// Always `admin`.
    pub username: String,
    /// The one-time password, to be shown to the operator once.
    pub password: String,
}

impl std::fmt::Debug for FirstAdmin {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("FirstAdmin").field("username", &self.username).finish_non_exhaustive()
    }
}

/// Creates the first admin if there is no staff account at all. Returns
/// the credentials only when the password was generated here.
pub async fn first_admin(db: &Db, config: &Config) -> Result<Option<FirstAdmin>, ServeError> {
    let has_accounts = db
        .run(|connection| -> Result<bool, Error> { Ok(db::staff::any_account(connection)?) })
        .await
        .map_err(startup_error)?;
    if has_accounts {
        return Ok(None);
    }
    let (password, generated) = match &config.bootstrap_admin_password {
        Some(password) => {
            if let Some(problem) = passwords::weakness(password) {
                return Err(ServeError::Config(ConfigError {
                    variable: "LECTERN_BOOTSTRAP_ADMIN_PASSWORD".to_owned(),
                    problem,
                }));
            }
            (password.clone(), false)
        }
        None => (passwords::one_time(), true),
    };
    let to_hash = password.clone();
    let password_hash = passwords::off_runtime(move || passwords::hash(&to_hash).map_err(Error::Internal))
        .await
        .map_err(startup_error)?;
    let account = StaffRow {
        id: lectern_core::ids::new_id(),
        username: ADMIN_USERNAME.to_owned(),
        display_name: ADMIN_DISPLAY_NAME.to_owned(),
        role: Role::DistrictAdmin.as_str().to_owned(),
        password_hash,
        password_change_required: true,
        disabled: false,
        failed_logins: 0,
        locked_until: None,
        created_at: config.settings.clock.now().naive_utc(),
        password_changed_at: None,
    };
    let account_id = account.id.clone();
    let created = db
        .write(move |connection| -> Result<bool, Error> {
            // Another replica starting at the same moment may have won.
            if db::staff::any_account(connection)? {
                return Ok(false);
            }
            match db::staff::insert_account(connection, &account) {
                Ok(()) => Ok(true),
                Err(error) if unique_violation_on(&error, "username") => Ok(false),
                Err(error) => Err(error.into()),
            }
        })
        .await
        .map_err(startup_error)?;
    if !created {
        return Ok(None);
    }
    if generated {
        tracing::info!(staff.id = %account_id, "first district admin created with a one-time password");
        Ok(Some(FirstAdmin { username: ADMIN_USERNAME.to_owned(), password }))
    } else {
        tracing::info!(
            staff.id = %account_id,
            "first district admin created with the password from LECTERN_BOOTSTRAP_ADMIN_PASSWORD"
        );
        Ok(None)
    }
}

/// Shows the operator the first admin's credentials, once, on stdout and
/// never in the logs (which are kept and shipped elsewhere).
pub fn announce(admin: &FirstAdmin) {
    let rule = "=".repeat(78);
    println!(
        "\n{rule}\n  First district admin created — username: {}  one-time password: {} (change it at first sign-in)\n{rule}\n",
        admin.username, admin.password
    );
}

/// A startup failure as the server reports it.
pub fn startup_error(error: Error) -> ServeError {
    match error {
        Error::Database(error) => error.into(),
        other => ServeError::Startup(other.to_string()),
    }
}
