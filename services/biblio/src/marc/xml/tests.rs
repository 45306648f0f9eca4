//! The MARCXML reader on good and broken documents.

use super::*;
use crate::marc::Problem;

fn read_all(xml: &str) -> Vec<Result<Record, RecordError>> {
    MarcXmlReader::new(xml.as_bytes()).collect()
}

const GOOD: &str = r#"<record>
  <leader>00000nam a2200000   4500</leader>
  <controlfield tag="001">7</controlfield>
  <datafield tag="245" ind1="1" ind2="0"><subfield code="a">Tom &amp; Jerry &#x4E09;</subfield></datafield>
</record>"#;

#[test]
fn reads_prefixed_and_unprefixed_records() {
    let xml = format!(
        r#"<?xml version="1.0"?><marc:collection xmlns:marc="{NAMESPACE}">
        <marc:record><marc:leader>00000nam0 2200000   450 </marc:leader>
        <marc:datafield tag="200" ind1="1" ind2=" "><marc:subfield code="a">三体</marc:subfield></marc:datafield>
        </marc:record></marc:collection>"#
    );
    let record = read_all(&xml).remove(0).unwrap();
    assert_eq!(record.first("200", 'a'), Some("三体"));
    let record = read_all(GOOD).remove(0).unwrap();
    assert_eq!(record.first("245", 'a'), Some("Tom & Jerry 三"));
    assert_eq!(record.control("001"), Some("7"));
}

#[test]
fn a_bad_record_is_reported_and_the_next_reads() {
    let xml = format!(
        r#"<collection>{GOOD}
        <record><leader>short</leader></record>
        <record><leader>00000nam a2200000   4500</leader>
          <datafield tag="24" ind1=" " ind2=" "><subfield code="a">x</subfield></datafield></record>
        <record><datafield tag="245" ind1="é" ind2=" "/></record>
        <record><leader>00000nam a2200000   4500</leader><datafield tag="245" ind1=" " ind2=" "><subfield code="ab">x</subfield></datafield></record>
        <record/>
        {GOOD}</collection>"#
    );
    let records = read_all(&xml);
    assert_eq!(records.len(), 7);
    assert!(records[0].is_ok() && records[6].is_ok());
    let problems: Vec<(u64, Problem)> = records[1..6]
        .iter()
        .map(|result| result.as_ref().unwrap_err())
        .map(|e| (e.record, e.problem))
        .collect();
    assert_eq!(
        problems,
        [
            (2, Problem::Leader),
            (3, Problem::Field),
            (4, Problem::Field),
            (5, Problem::Field),
            (6, Problem::Leader)
        ]
    );
    assert_eq!(records[4].as_ref().unwrap_err().tag.as_deref(), Some("245"));
}

#[test]
fn broken_xml_ends_the_file_with_a_clear_error() {
    let xml =
        format!("<collection>{GOOD}<record><leader>00000nam a2200000   4500</leader><datafield></record>");
    let records = read_all(&xml);
    assert_eq!(records.len(), 2);
    let error = records[1].as_ref().unwrap_err();
    assert_eq!((error.record, error.problem), (2, Problem::Syntax));
}

#[test]
fn a_cut_off_file_reports_the_last_record() {
    let xml = format!("<collection>{GOOD}<record><leader>00000nam a2200000   4500</leader>");
    let records = read_all(&xml);
    assert_eq!(records.len(), 2);
    assert_eq!(records[1].as_ref().unwrap_err().problem, Problem::Syntax);
}

#[test]
fn invalid_utf8_is_an_error_not_a_panic() {
    let mut bytes = b"<record><leader>00000nam a2200000   4500</leader><controlfield tag=\"001\">".to_vec();
    bytes.extend_from_slice(b"\xC8\xFD</controlfield></record>");
    let records: Vec<_> = MarcXmlReader::new(&bytes[..]).collect();
    assert!(records.iter().any(Result::is_err));
}

#[test]
fn oversized_values_are_refused() {
    let xml = format!(
        "<record><leader>00000nam a2200000   4500</leader><datafield tag=\"520\" ind1=\" \" ind2=\" \"><subfield code=\"a\">{}</subfield></datafield></record>",
        "x".repeat(MAX_FIELD_BYTES + 1)
    );
    let error = read_all(&xml).remove(0).unwrap_err();
    assert_eq!((error.problem, error.tag.as_deref()), (Problem::Size, Some("520")));
}

#[test]
fn the_writer_escapes_and_drops_what_xml_cannot_carry() {
    let mut record = crate::marc::samples::marc21();
    record.fields.push(crate::marc::samples::data("500", "  ", &[('a', "<b> & \"q\" \u{1}")]));
    let mut writer = MarcXmlWriter::new(Vec::new()).unwrap();
    writer.write(&record).unwrap();
    let xml = writer.finish().unwrap();
    let read = MarcXmlReader::new(&xml[..]).next().unwrap().unwrap();
    assert_eq!(read.first("500", 'a'), Some("<b> & \"q\""));
}
