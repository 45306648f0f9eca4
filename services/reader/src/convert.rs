//! Stored rows as the API shows them.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use lectern_core::identity::Role;
use lectern_core::time::timestamp;
use lectern_proto::reader::v1::{
    Class, Reader, ReaderBlock, ReaderStatus, School, StaffAccount, StaffRole, VerificationKey,
};

use crate::db::readers::{STATUS_ACTIVE, STATUS_INACTIVE};
use crate::db::{BlockRow, ClassRow, ReaderView, SchoolRow, SigningKeyRow, StaffRow};
use crate::{accounts, categories};

/// A school.
pub fn school(row: SchoolRow) -> School {
    School { id: row.id, code: row.code, name: row.name, create_time: Some(timestamp(row.created_at)) }
}

/// A class.
pub fn class(row: ClassRow) -> Class {
    Class {
        id: row.id,
        school_id: row.school_id,
        name: row.name,
        grade: row.grade,
        school_year: row.school_year,
    }
}

/// A reader with class and blocks.
pub fn reader(view: ReaderView) -> Reader {
    let row = view.reader;
    let status = match row.status.as_str() {
        STATUS_ACTIVE => ReaderStatus::Active,
        STATUS_INACTIVE => ReaderStatus::Inactive,
        _ => ReaderStatus::Unspecified,
    };
    Reader {
        id: row.id,
        school_id: row.school_id,
        card_barcode: row.card_barcode,
        name: row.name,
        category: row.category,
        class_id: row.class_id.unwrap_or_default(),
        grade: view.grade.unwrap_or(0),
        class_name: view.class_name.unwrap_or_default(),
        status: status.into(),
        expires_on: row.expires_on.map(|date| date.to_string()).unwrap_or_default(),
        blocks: view.blocks.into_iter().map(block).collect(),
        create_time: Some(timestamp(row.created_at)),
        number: row.number.unwrap_or_default(),
        history_rule: Some(categories::wire_rule(&view.history.0, view.history.1)),
    }
}

/// A manual block.
pub fn block(row: BlockRow) -> ReaderBlock {
    ReaderBlock {
        id: row.id,
        reason: row.reason,
        ends_on: row.ends_on.map(|date| date.to_string()).unwrap_or_default(),
        create_time: Some(timestamp(row.created_at)),
    }
}

/// A staff account (never its password hash).
pub fn staff_account(row: StaffRow, school_ids: Vec<String>) -> StaffAccount {
    let role = Role::parse(&row.role).map_or(StaffRole::Unspecified, accounts::staff_role);
    StaffAccount {
        id: row.id,
        username: row.username,
        display_name: row.display_name,
        role: role.into(),
        create_time: Some(timestamp(row.created_at)),
        password_change_required: row.password_change_required,
        school_ids,
        disabled: row.disabled,
    }
}

/// A verification key (the public half only).
pub fn verification_key(row: SigningKeyRow) -> VerificationKey {
    VerificationKey {
        key_id: row.key_id,
        algorithm: "EdDSA".to_owned(),
        public_key: URL_SAFE_NO_PAD.encode(&row.public_key),
        create_time: Some(timestamp(row.created_at)),
    }
}
