//! The connection's own messages: 93 Login and 99 SC Status.

use super::{Cursor, ParseError, optional, required};

/// 93 Login: the machine signs in as a device (CN = device id, CO = device
/// key in Lectern).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Login {
    /// UID algorithm (`0` = not encrypted; others are taken as sent).
    pub uid_algorithm: char,
    /// PWD algorithm.
    pub pwd_algorithm: char,
    /// CN login user id.
    pub user_id: String,
    /// CO login password.
    pub password: String,
    /// CP location code.
    pub location_code: Option<String>,
}

/// 99 SC Status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScStatus {
    /// Status code: `0` ok, `1` out of paper, `2` shutting down.
    pub status: char,
    /// The printer's line width in characters (`000` = no printer).
    pub max_print_width: u16,
    /// Protocol version as sent (`2.00`); any version starting `2.` is 2.00.
    pub protocol_version: String,
}

pub(super) fn parse_login(rest: &str) -> Result<Login, ParseError> {
    const CODE: &str = "93";
    let mut cursor = Cursor::new(CODE, rest, 2)?;
    let uid_algorithm = cursor.one_of("UID algorithm", "0123456789")?;
    let pwd_algorithm = cursor.one_of("PWD algorithm", "0123456789")?;
    let fields = cursor.fields();
    Ok(Login {
        uid_algorithm,
        pwd_algorithm,
        user_id: required(&fields, CODE, "CN")?,
        password: required(&fields, CODE, "CO")?,
        location_code: optional(&fields, "CP"),
    })
}

pub(super) fn parse_sc_status(rest: &str) -> Result<ScStatus, ParseError> {
    const CODE: &str = "99";
    let mut cursor = Cursor::new(CODE, rest, 8)?;
    let status = cursor.one_of("status code", "012")?;
    let width = cursor.digits("max print width", 3)?;
    let protocol_version = cursor.take(4).to_owned();
    Ok(ScStatus { status, max_print_width: width.parse().unwrap_or(0), protocol_version })
}
