//! Comparing a roster with what the school has: which readers to create,
//! update or deactivate, and which classes to create. Readers are matched by
//! their student/staff number within the school. A new reader's card is
//! the card barcode the roster gives, else the number. A full roster makes
//! the school's active readers of the categories it covers inactive when
//! they are missing from it; readers without a number are never touched.

use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::NaiveDateTime;

use super::{ClassRef, LineError, Roster, RosterReader};
use crate::db::readers::{STATUS_ACTIVE, STATUS_INACTIVE, name_key};
use crate::db::{ClassRow, ReaderRow};

/// What the school has now.
#[derive(Debug, Default)]
pub struct Existing {
    /// The school's readers.
    pub readers: Vec<ReaderRow>,
    /// The school's classes.
    pub classes: Vec<ClassRow>,
    /// Reader id by card barcode, for every card the plan may hand out
    /// (readers of any school).
    pub card_holders: HashMap<String, String>,
}

/// What happens to one reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    Create,
    Update,
    Deactivate,
}

/// One reader's change, for the librarian to review.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub kind: ChangeKind,
    pub number: String,
    pub name: String,
    /// For updates: the fields that change.
    pub fields: Vec<&'static str>,
}

/// The changes an import makes.
#[derive(Debug, Default)]
pub struct Plan {
    pub new_classes: Vec<ClassRow>,
    pub creates: Vec<ReaderRow>,
    /// Changed readers, whole, as they will be stored (deactivations too).
    pub updates: Vec<ReaderRow>,
    pub updated: u64,
    pub deactivated: u64,
    pub unchanged: u64,
    pub skipped: u64,
    pub changes: Vec<Change>,
    pub errors: Vec<LineError>,
}

impl Plan {
    /// How many rows the plan writes.
    pub fn writes(&self) -> usize {
        self.new_classes.len() + self.creates.len() + self.updates.len()
    }
}

/// Plans the import of `roster` into `school_id`. `new_id` makes ids.
pub fn plan(
    roster: &Roster,
    school_id: &str,
    existing: &Existing,
    now: NaiveDateTime,
    mut new_id: impl FnMut() -> String,
) -> Plan {
    let mut plan = Plan { skipped: roster.skipped, ..Plan::default() };
    let class_ids = classes(roster, school_id, existing, now, &mut new_id, &mut plan);
    let by_number: HashMap<&str, &ReaderRow> =
        existing.readers.iter().filter_map(|reader| Some((reader.number.as_deref()?, reader))).collect();
    let mut new_cards: HashMap<String, u64> = HashMap::new();
    for entry in &roster.readers {
        let class_id = entry.class.as_ref().and_then(|class| class_ids.get(class).cloned());
        match by_number.get(entry.number.as_str()) {
            None if !entry.active => plan.skipped += 1,
            None => {
                let card = entry.card_barcode.clone().unwrap_or_else(|| entry.number.clone());
                if let Some(error) = card_taken(entry, &card, None, existing) {
                    plan.errors.push(error);
                    continue;
                }
                if let Some(line) = new_cards.insert(card.clone(), entry.line) {
                    plan.errors.push(LineError::at(
                        &entry.file,
                        entry.line,
                        "card_barcode",
                        format!("card barcode {card} would also go to the reader on line {line}"),
                    ));
                    continue;
                }
                let reader = ReaderRow {
                    id: new_id(),
                    school_id: school_id.to_owned(),
                    card_barcode: card,
                    name: entry.name.clone(),
                    category: entry.category.clone(),
                    class_id,
                    status: STATUS_ACTIVE.to_owned(),
                    expires_on: entry.expires_on,
                    created_at: now,
                    number: Some(entry.number.clone()),
                    name_key: name_key(&entry.name),
                };
                plan.changes.push(change(ChangeKind::Create, entry, Vec::new()));
                plan.creates.push(reader);
            }
            Some(current) => {
                if let Some(card) = &entry.card_barcode
                    && let Some(error) = card_taken(entry, card, Some(&current.id), existing)
                {
                    plan.errors.push(error);
                    continue;
                }
                let (wanted, fields) = updated(current, entry, class_id);
                if fields.is_empty() {
                    plan.unchanged += 1;
                    continue;
                }
                let kind = if entry.active || current.status != STATUS_ACTIVE {
                    plan.updated += 1;
                    ChangeKind::Update
                } else {
                    plan.deactivated += 1;
                    ChangeKind::Deactivate
                };
                plan.changes.push(change(kind, entry, fields));
                plan.updates.push(wanted);
            }
        }
    }
    if !roster.partial {
        deactivate_missing(roster, existing, &mut plan);
    }
    plan
}

/// The class id of every class the roster names, creating the missing
/// ones; errors for a class whose grade differs from the school's or
/// from another line's.
fn classes(
    roster: &Roster,
    school_id: &str,
    existing: &Existing,
    now: NaiveDateTime,
    new_id: &mut impl FnMut() -> String,
    plan: &mut Plan,
) -> HashMap<ClassRef, String> {
    let stored: HashMap<(&str, &str), &ClassRow> = existing
        .classes
        .iter()
        .map(|class| ((class.name.as_str(), class.school_year.as_str()), class))
        .collect();
    let mut first_seen: HashMap<(String, String), (i32, u64)> = HashMap::new();
    let mut ids = HashMap::new();
    for entry in &roster.readers {
        let Some(class) = &entry.class else { continue };
        let key = (class.name.clone(), class.school_year.clone());
        if let Some((grade, line)) = first_seen.get(&key) {
            if *grade != class.grade {
                plan.errors.push(class_error(
                    entry,
                    format!("class {} of {} is grade {grade} on line {line}", class.name, class.school_year),
                ));
            }
            continue;
        }
        first_seen.insert(key, (class.grade, entry.line));
        match stored.get(&(class.name.as_str(), class.school_year.as_str())) {
            Some(row) if row.grade != class.grade => plan.errors.push(class_error(
                entry,
                format!("class {} of {} is grade {} in Lectern", class.name, class.school_year, row.grade),
            )),
            Some(row) => {
                ids.insert(class.clone(), row.id.clone());
            }
            None => {
                let row = ClassRow {
                    id: new_id(),
                    school_id: school_id.to_owned(),
                    name: class.name.clone(),
                    grade: class.grade,
                    school_year: class.school_year.clone(),
                    created_at: now,
                };
                ids.insert(class.clone(), row.id.clone());
                plan.new_classes.push(row);
            }
        }
    }
    ids
}

fn class_error(entry: &RosterReader, message: String) -> LineError {
    LineError::at(&entry.file, entry.line, "grade", message)
}

/// An error if `card` belongs to a reader other than `owner`.
fn card_taken(
    entry: &RosterReader,
    card: &str,
    owner: Option<&str>,
    existing: &Existing,
) -> Option<LineError> {
    let holder = existing.card_holders.get(card)?;
    if owner == Some(holder.as_str()) {
        return None;
    }
    let column = if entry.card_barcode.is_some() { "card_barcode" } else { "number" };
    Some(LineError::at(
        &entry.file,
        entry.line,
        column,
        format!("card barcode {card} already belongs to another reader; give this reader a card_barcode"),
    ))
}

/// The reader as the roster wants them, and the fields that differ. Blank
/// card, class and expiry cells leave what Lectern has.
fn updated(
    current: &ReaderRow,
    entry: &RosterReader,
    class_id: Option<String>,
) -> (ReaderRow, Vec<&'static str>) {
    let mut wanted = current.clone();
    let mut fields = Vec::new();
    if current.name != entry.name {
        wanted.name = entry.name.clone();
        wanted.name_key = name_key(&entry.name);
        fields.push("name");
    }
    if current.category != entry.category {
        wanted.category = entry.category.clone();
        fields.push("category");
    }
    if let Some(card) = &entry.card_barcode
        && *card != current.card_barcode
    {
        wanted.card_barcode = card.clone();
        fields.push("card_barcode");
    }
    if class_id.is_some() && class_id != current.class_id {
        wanted.class_id = class_id;
        fields.push("class");
    }
    if entry.expires_on.is_some() && entry.expires_on != current.expires_on {
        wanted.expires_on = entry.expires_on;
        fields.push("expires_on");
    }
    let status = if entry.active { STATUS_ACTIVE } else { STATUS_INACTIVE };
    if current.status != status {
        wanted.status = status.to_owned();
        fields.push("status");
    }
    (wanted, fields)
}

/// Deactivates the school's active, numbered readers of the roster's
/// categories that the roster does not list.
fn deactivate_missing(roster: &Roster, existing: &Existing, plan: &mut Plan) {
    let listed: HashSet<&str> = roster.readers.iter().map(|entry| entry.number.as_str()).collect();
    let categories: BTreeSet<&str> = roster.readers.iter().map(|entry| entry.category.as_str()).collect();
    for reader in &existing.readers {
        let Some(number) = &reader.number else { continue };
        if reader.status != STATUS_ACTIVE
            || listed.contains(number.as_str())
            || !categories.contains(reader.category.as_str())
        {
            continue;
        }
        plan.deactivated += 1;
        plan.changes.push(Change {
            kind: ChangeKind::Deactivate,
            number: number.clone(),
            name: reader.name.clone(),
            fields: vec!["status"],
        });
        plan.updates.push(ReaderRow { status: STATUS_INACTIVE.to_owned(), ..reader.clone() });
    }
}

fn change(kind: ChangeKind, entry: &RosterReader, fields: Vec<&'static str>) -> Change {
    Change { kind, number: entry.number.clone(), name: entry.name.clone(), fields }
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
