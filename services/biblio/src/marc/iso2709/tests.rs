//! The ISO 2709 reader on good files and on the broken ones schools send:
//! every broken record is reported with its number and field, and the
//! records after it still read.

use super::*;
use crate::marc::samples::{cnmarc as cnmarc_record, marc21 as marc21_record};
use crate::marc::tests::iso;

fn read_all(bytes: &[u8]) -> Vec<Result<Record, RecordError>> {
    Iso2709Reader::new(bytes).collect()
}

/// A record built byte by byte, independent of the writer.
fn raw(fields: &[(&str, &[u8])]) -> Vec<u8> {
    let mut directory = Vec::new();
    let mut data = Vec::new();
    for (tag, content) in fields {
        let start = data.len();
        data.extend_from_slice(content);
        data.push(0x1E);
        directory.extend_from_slice(format!("{tag}{:04}{start:05}", data.len() - start).as_bytes());
    }
    directory.push(0x1E);
    let base = 24 + directory.len();
    let total = base + data.len() + 1;
    let mut record = format!("{total:05}nam a22{base:05}   4500").into_bytes();
    record.extend(directory);
    record.extend(data);
    record.push(0x1D);
    record
}

#[test]
fn reads_a_hand_built_record() {
    let bytes = raw(&[("001", b"42"), ("245", b"10\x1FaCharlotte's web /\x1FcE. B. White.")]);
    let records = read_all(&bytes);
    let record = records[0].as_ref().unwrap();
    assert_eq!(record.control("001"), Some("42"));
    assert_eq!(record.first("245", 'a'), Some("Charlotte's web /"));
    assert_eq!(record.first("245", 'c'), Some("E. B. White."));
}

#[test]
fn lengths_count_bytes_not_characters() {
    let bytes = raw(&[("200", "1 \x1Fa三体\x1Fe地球往事".as_bytes())]);
    let record = read_all(&bytes).remove(0).unwrap();
    assert_eq!(record.first("200", 'e'), Some("地球往事"));
}

#[test]
fn line_breaks_between_records_are_ignored() {
    let mut bytes = iso(&[marc21_record()]);
    bytes.extend_from_slice(b"\r\n");
    bytes.extend(iso(&[cnmarc_record()]));
    bytes.extend_from_slice(b"\n");
    let records = read_all(&bytes);
    assert_eq!(records.len(), 2);
    assert!(records.iter().all(Result::is_ok));
}

fn between_good_records(broken: &[u8]) -> Vec<Result<Record, RecordError>> {
    let mut bytes = iso(&[marc21_record()]);
    bytes.extend_from_slice(broken);
    bytes.extend(iso(&[cnmarc_record()]));
    let records = read_all(&bytes);
    assert_eq!(records.len(), 3, "{records:?}");
    assert!(records[0].is_ok());
    assert_eq!(records[2].as_ref().unwrap().first("200", 'a'), Some("三体"), "the next record still reads");
    records
}

fn error_of(broken: &[u8]) -> RecordError {
    between_good_records(broken).remove(1).unwrap_err()
}

#[test]
fn a_bad_leader_is_reported_and_the_next_record_reads() {
    let mut broken = raw(&[("245", b"10\x1FaTitle")]);
    broken[0..5].copy_from_slice(b"12a45");
    let error = error_of(&broken);
    assert_eq!((error.record, error.problem), (2, Problem::Leader));
    assert!(error.to_string().starts_with("record 2: record length"), "{error}");

    let error = error_of(b"short\x1D");
    assert_eq!(error.problem, Problem::Leader);
}

#[test]
fn a_wrong_record_length_is_reported() {
    let mut broken = raw(&[("245", b"10\x1FaTitle")]);
    broken[0..5].copy_from_slice(b"00099");
    let error = error_of(&broken);
    assert_eq!(error.problem, Problem::Leader);
    assert!(error.reason.contains("record length of 99 bytes"), "{error}");
}

#[test]
fn wrong_directory_lengths_name_the_field() {
    let mut broken = raw(&[("001", b"x"), ("245", b"10\x1FaTitle")]);
    // 245 is 10 bytes; claim 9.
    let entry = broken.windows(7).position(|window| window == b"2450010").unwrap();
    broken[entry..entry + 7].copy_from_slice(b"2450009");
    let error = error_of(&broken);
    assert_eq!((error.tag.as_deref(), error.problem), (Some("245"), Problem::Directory));
    assert_eq!(error.to_string(), format!("record 2, field 245: {}", error.reason));
}

#[test]
fn absurd_field_sizes_are_refused() {
    let mut broken = raw(&[("245", b"10\x1FaTitle")]);
    let entry = broken.windows(7).position(|window| window == b"2450010").unwrap();
    broken[entry..entry + 7].copy_from_slice(b"2459999");
    let error = error_of(&broken);
    assert_eq!((error.tag.as_deref(), error.problem), (Some("245"), Problem::Size));
}

#[test]
fn a_directory_that_is_not_whole_entries_is_refused() {
    let mut broken = raw(&[("245", b"10\x1FaTitle")]);
    // Move the base address one byte on: the directory gains a byte.
    broken[12..17].copy_from_slice(b"00038");
    let error = error_of(&broken);
    assert_eq!(error.problem, Problem::Directory);
}

#[test]
fn invalid_utf8_names_the_field() {
    // "三体" in GB 2312.
    let broken = raw(&[("001", b"1"), ("200", b"1 \x1Fa\xC8\xFD\xCC\xE5")]);
    let error = error_of(&broken);
    assert_eq!((error.tag.as_deref(), error.problem), (Some("200"), Problem::Encoding));
    assert!(error.reason.contains("UTF-8"));
}

#[test]
fn a_record_without_terminator_longer_than_iso_allows_is_skipped() {
    let mut broken = vec![b'9'; MAX_RECORD_BYTES + 10];
    broken.push(0x1D);
    let error = error_of(&broken);
    assert_eq!(error.problem, Problem::Size);
}

#[test]
fn a_file_cut_off_mid_record_reports_the_last_record() {
    let mut bytes = iso(&[marc21_record(), cnmarc_record()]);
    bytes.truncate(bytes.len() - 20);
    let records = read_all(&bytes);
    assert_eq!(records.len(), 2);
    let error = records[1].as_ref().unwrap_err();
    assert_eq!((error.record, error.problem), (2, Problem::Syntax));
}

#[test]
fn an_empty_file_has_no_records() {
    assert!(read_all(b"").is_empty());
    assert!(read_all(b"\n\n").is_empty());
}

#[test]
fn the_writer_refuses_fields_iso_cannot_hold_and_cleans_delimiters() {
    let mut record = marc21_record();
    record.fields.push(crate::marc::samples::data("500", "  ", &[('a', &"长".repeat(4000))]));
    assert!(matches!(
        write_record(&record, &mut Vec::new()),
        Err(WriteError::FieldTooLong { ref tag, .. }) if tag == "500"
    ));
    let mut record = marc21_record();
    record.fields.push(crate::marc::samples::data("500", "  ", &[('a', "a\u{1D}b\u{1F}c")]));
    let bytes = iso(&[record]);
    let read = read_all(&bytes).remove(0).unwrap();
    assert_eq!(read.first("500", 'a'), Some("a b c"));
}
