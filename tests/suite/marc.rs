//! MARC through the gateway: a librarian imports a file mixing MARC21 and
//! CNMARC records with some broken ones (each reported by number, the good
//! ones imported), a dry run changes nothing, a second import only finds
//! what is there, a scanned ISBN is catalogued from the MARC pool, the
//! school's holdings export reads back the same, and a librarian of
//! another school is refused.

use lectern_biblio::marc::samples::{cnmarc, marc21};
use lectern_biblio::marc::{self, iso2709, to_bib};
use lectern_core::refusal::Reason;
use lectern_proto::catalog::v1::marc_service_client::MarcServiceClient;
use lectern_proto::catalog::v1::{
    ExportMarcRequest, ImportMarcOptions, ImportMarcRequest, ImportMarcResponse, IntakeIsbnRequest,
    LookupCopyRequest, LookupTitleRequest, MarcFormat, MarcImportCounts, MarcRecordProblem, MarcRecordResult,
    import_marc_request,
};
use lectern_proto::reader::v1::{School, StaffRole};
use tonic::{Code, Status};

use crate::harness::{TestSuite, assert_invalid, assert_refused, bearer};

fn marc_client(suite: &TestSuite) -> MarcServiceClient<tonic::transport::Channel> {
    MarcServiceClient::new(suite.channel.clone())
}

/// Sends `file` in small chunks (so records straddle them) and gathers the
/// rejected records and the final counts.
async fn import(
    suite: &TestSuite,
    token: &str,
    options: ImportMarcOptions,
    file: &[u8],
) -> Result<(MarcImportCounts, Vec<MarcRecordResult>), Status> {
    let mut messages = vec![ImportMarcRequest { part: Some(import_marc_request::Part::Options(options)) }];
    messages.extend(
        file.chunks(97)
            .map(|chunk| ImportMarcRequest { part: Some(import_marc_request::Part::Chunk(chunk.to_vec())) }),
    );
    let mut stream =
        marc_client(suite).import_marc(bearer(futures::stream::iter(messages), token)).await?.into_inner();
    let mut rejected = Vec::new();
    let mut last: Option<ImportMarcResponse> = None;
    while let Some(message) = stream.message().await? {
        rejected.extend(message.results.iter().cloned());
        last = Some(message);
    }
    let last = last.expect("an import answers");
    assert!(last.done, "the last message closes the import");
    Ok((last.counts.expect("counts"), rejected))
}

fn options(school: &School, dry_run: bool) -> ImportMarcOptions {
    ImportMarcOptions {
        format: MarcFormat::Iso2709.into(),
        school_id: school.id.clone(),
        dry_run,
        source_name: "books.mrc".into(),
        ..Default::default()
    }
}

/// Two good records (MARC21 with two items, CNMARC with one) around four
/// bad ones.
fn mixed_file() -> Vec<u8> {
    let mut file = Vec::new();
    iso2709::write_record(&marc21(), &mut file).unwrap();
    // 2: a leader whose record length is not digits.
    let mut broken = Vec::new();
    iso2709::write_record(&marc21(), &mut broken).unwrap();
    broken[0..5].copy_from_slice(b"12x45");
    file.extend(broken);
    // 3: a record whose only ISBN has a wrong check digit.
    let mut bad_isbn = cnmarc();
    bad_isbn.fields.retain(|field| !matches!(field, marc::Field::Data(data) if data.tag.as_str() == "010"));
    bad_isbn.fields.push(data_field("010", &[('a', "978-7-5366-9293-1")]));
    iso2709::write_record(&bad_isbn, &mut file).unwrap();
    // 4: an item of a type the district does not have.
    let mut odd_item = cnmarc();
    odd_item.fields.retain(
        |field| !matches!(field, marc::Field::Data(data) if ["010", "995"].contains(&data.tag.as_str())),
    );
    odd_item.fields.push(data_field("010", &[('a', "9787020125265")]));
    odd_item.fields.push(data_field("995", &[('f', "X0099"), ('r', "spaceship")]));
    iso2709::write_record(&odd_item, &mut file).unwrap();
    iso2709::write_record(&cnmarc(), &mut file).unwrap();
    // 6: invalid UTF-8 in the title field.
    let mut bytes = Vec::new();
    iso2709::write_record(&marc21(), &mut bytes).unwrap();
    let at = bytes.windows(8).position(|window| window == b"Bronze a").unwrap();
    bytes[at] = 0xFF;
    file.extend(bytes);
    file
}

fn data_field(tag: &str, subfields: &[(char, &str)]) -> marc::Field {
    marc::Field::Data(marc::DataField::new(
        marc::Tag::new(tag.as_bytes()).unwrap(),
        subfields
            .iter()
            .map(|(code, value)| marc::Subfield { code: *code, value: (*value).into() })
            .collect(),
    ))
}

async fn lookup_title(suite: &TestSuite, isbn: &str) -> Result<lectern_proto::catalog::v1::Title, Status> {
    suite
        .catalog()
        .lookup_title(suite.admin(LookupTitleRequest { isbn: isbn.into() }))
        .await
        .map(|r| r.into_inner())
}

#[tokio::test]
async fn a_mixed_file_imports_the_good_records_and_reports_the_bad_ones() {
    let suite = TestSuite::start().await;
    let school = suite.school("XH-PRI", "徐汇区实验小学").await;
    let librarian = suite.staff("li.lan", StaffRole::Librarian, &[&school]).await;
    let file = mixed_file();

    let (dry, dry_rejected) = import(&suite, &librarian, options(&school, true), &file).await.unwrap();
    assert_eq!(
        (dry.records_read, dry.titles_created, dry.copies_created, dry.records_rejected),
        (6, 2, 3, 4)
    );
    assert_eq!(
        lookup_title(&suite, "9787020002207").await.unwrap_err().code(),
        Code::NotFound,
        "a dry run writes nothing"
    );

    let (counts, rejected) = import(&suite, &librarian, options(&school, false), &file).await.unwrap();
    assert_eq!(rejected, dry_rejected, "the dry run reported what the import did");
    assert_eq!(
        (
            counts.records_read,
            counts.titles_created,
            counts.titles_matched,
            counts.copies_created,
            counts.records_rejected
        ),
        (6, 2, 0, 3, 4)
    );
    let report: Vec<(u64, &str, MarcRecordProblem)> = rejected
        .iter()
        .map(|result| {
            (result.record, result.tag.as_str(), MarcRecordProblem::try_from(result.problem).unwrap())
        })
        .collect();
    assert_eq!(
        report,
        [
            (2, "", MarcRecordProblem::Leader),
            (3, "010", MarcRecordProblem::BadIsbn),
            (4, "995", MarcRecordProblem::ItemTypeUnknown),
            (6, "245", MarcRecordProblem::Encoding),
        ]
    );
    assert!(rejected[1].reason.contains("check digit"), "{:?}", rejected[1]);
    assert_eq!(rejected[2].title, "三体");

    let bronze = lookup_title(&suite, "7-02-000220-X").await.unwrap();
    assert_eq!(bronze.title, "Bronze and sunflower");
    let santi = lookup_title(&suite, "9787536692930").await.unwrap();
    assert_eq!(santi.title, "三体");
    assert_eq!(
        lookup_title(&suite, "9787020125265").await.unwrap_err().code(),
        Code::NotFound,
        "nothing of a rejected record"
    );
    let copy = suite
        .catalog()
        .lookup_copy(suite.admin(LookupCopyRequest { barcode: "B0001".into() }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (copy.title_id.as_str(), copy.school_id.as_str(), copy.call_number.as_str()),
        (bronze.id.as_str(), school.id.as_str(), "I287.45/C12")
    );

    // The same file again: titles matched by ISBN, copies already there.
    let (again, _) = import(&suite, &librarian, options(&school, false), &file).await.unwrap();
    assert_eq!(
        (
            again.titles_created,
            again.titles_matched,
            again.copies_created,
            again.copies_existing,
            again.records_rejected
        ),
        (0, 2, 0, 3, 4)
    );
}

#[tokio::test]
async fn a_scanned_isbn_is_catalogued_from_the_pool() {
    let suite = TestSuite::start().await;
    let school = suite.school("XH-PRI", "徐汇区实验小学").await;
    let librarian = suite.staff("li.lan", StaffRole::Librarian, &[&school]).await;
    let mut file = Vec::new();
    iso2709::write_record(&cnmarc(), &mut file).unwrap();
    let pool = ImportMarcOptions { pool_only: true, school_id: String::new(), ..options(&school, false) };
    let (counts, _) = import(&suite, &suite.admin_token, pool, &file).await.unwrap();
    assert_eq!((counts.pooled, counts.titles_created, counts.copies_created), (1, 0, 0));
    assert_eq!(
        lookup_title(&suite, "9787536692930").await.unwrap_err().code(),
        Code::NotFound,
        "pooled, not catalogued"
    );

    let intake = |isbn: &str, barcode: &str| IntakeIsbnRequest {
        isbn: isbn.into(),
        school_id: school.id.clone(),
        barcode: barcode.into(),
        location: "二楼 科幻".into(),
        ..Default::default()
    };
    let first = marc_client(&suite)
        .intake_isbn(bearer(intake("978-7-5366-9293-0", "S0001"), &librarian))
        .await
        .unwrap()
        .into_inner();
    assert!(first.title_created);
    assert_eq!(first.source, "marc_pool");
    let title = first.title.unwrap();
    assert_eq!((title.title.as_str(), title.isbn13.as_str()), ("三体", "9787536692930"));
    assert_eq!(first.copy.unwrap().barcode, "S0001");

    let second = marc_client(&suite)
        .intake_isbn(bearer(intake("9787536692930", "S0002"), &librarian))
        .await
        .unwrap()
        .into_inner();
    assert!(!second.title_created);
    assert_eq!((second.source.as_str(), second.title.unwrap().id), ("catalog", title.id));

    assert_refused(
        marc_client(&suite).intake_isbn(bearer(intake("9787020125265", "S0003"), &librarian)).await,
        Code::NotFound,
        Reason::MetadataNotFound,
    );
    assert_invalid(
        marc_client(&suite).intake_isbn(bearer(intake("9787020125266", "S0003"), &librarian)).await,
        "isbn",
    );
}

#[tokio::test]
async fn the_holdings_export_reads_back_the_same() {
    let suite = TestSuite::start().await;
    let school = suite.school("XH-PRI", "徐汇区实验小学").await;
    let librarian = suite.staff("li.lan", StaffRole::Librarian, &[&school]).await;
    let mut file = Vec::new();
    for record in [marc21(), cnmarc()] {
        iso2709::write_record(&record, &mut file).unwrap();
    }
    import(&suite, &librarian, options(&school, false), &file).await.unwrap();

    for format in [MarcFormat::Iso2709, MarcFormat::Marcxml] {
        let request = ExportMarcRequest { school_id: school.id.clone(), format: format.into() };
        let mut stream =
            marc_client(&suite).export_marc(bearer(request, &librarian)).await.unwrap().into_inner();
        let mut exported = Vec::new();
        while let Some(chunk) = stream.message().await.unwrap() {
            exported.extend(chunk.data);
        }
        let records: Vec<marc::Record> = match format {
            MarcFormat::Marcxml => marc::xml::MarcXmlReader::new(&exported[..]).map(Result::unwrap).collect(),
            _ => iso2709::Iso2709Reader::new(&exported[..]).map(Result::unwrap).collect(),
        };
        assert_eq!(records.len(), 2);
        let mut bibs: Vec<marc::BibRecord> = records.iter().map(|record| to_bib(record, None).1).collect();
        bibs.sort_by(|a, b| a.title.cmp(&b.title));
        for (exported, original) in
            bibs.iter().zip([marc21(), cnmarc()].iter().map(|record| to_bib(record, None).1))
        {
            assert_eq!(exported.isbns, original.isbns);
            assert_eq!(exported.title, original.title);
            assert_eq!(exported.subtitle, original.subtitle);
            assert_eq!(exported.contributors, original.contributors);
            assert_eq!((&exported.publisher, exported.year), (&original.publisher, original.year));
            assert_eq!((&exported.clc, &exported.dewey), (&original.clc, &original.dewey));
            assert_eq!(exported.subjects, original.subjects);
            let items = |bib: &marc::BibRecord| {
                bib.items
                    .iter()
                    .map(|item| (item.barcode.clone(), item.location.clone(), item.item_type.clone()))
                    .collect::<Vec<_>>()
            };
            assert_eq!(items(exported), items(&original));
            // An item without a call number takes its title's.
            for (item_out, item_in) in exported.items.iter().zip(&original.items) {
                if !item_in.call_number.is_empty() {
                    assert_eq!(item_out.call_number, item_in.call_number);
                }
                // An item without a price of its own takes the record's.
                let price = item_in.price.as_ref().or(original.price.as_ref()).map(|price| price.minor);
                assert_eq!(item_out.price.as_ref().map(|price| price.minor), price);
            }
            assert!(exported.items.iter().all(|item| item.home == "XH-PRI"));
        }
    }
}

#[tokio::test]
async fn librarians_of_other_schools_and_assistants_are_refused() {
    let suite = TestSuite::start().await;
    let school = suite.school("XH-PRI", "徐汇区实验小学").await;
    let other = suite.school("XH-MID", "徐汇区第二中学").await;
    let outsider = suite.staff("wang.li", StaffRole::Librarian, &[&other]).await;
    let assistant = suite.staff("zhou.an", StaffRole::Assistant, &[&school]).await;
    let mut file = Vec::new();
    iso2709::write_record(&marc21(), &mut file).unwrap();

    assert_refused(
        import(&suite, &outsider, options(&school, false), &file).await,
        Code::PermissionDenied,
        Reason::SchoolNotAllowed,
    );
    assert_refused(
        import(&suite, &assistant, options(&school, false), &file).await,
        Code::PermissionDenied,
        Reason::RoleNotAllowed,
    );
    let export = ExportMarcRequest { school_id: school.id.clone(), format: MarcFormat::Iso2709.into() };
    assert_refused(
        marc_client(&suite).export_marc(bearer(export, &outsider)).await.map(|_| ()),
        Code::PermissionDenied,
        Reason::SchoolNotAllowed,
    );
    let intake = IntakeIsbnRequest {
        isbn: "9787020002207".into(),
        school_id: school.id.clone(),
        barcode: "B0001".into(),
        ..Default::default()
    };
    assert_refused(
        marc_client(&suite).intake_isbn(bearer(intake, &outsider)).await,
        Code::PermissionDenied,
        Reason::SchoolNotAllowed,
    );
    assert_eq!(lookup_title(&suite, "9787020002207").await.unwrap_err().code(), Code::NotFound);
    // Options must come first and name a format.
    let bad = ImportMarcOptions { format: 0, ..options(&school, false) };
    assert_invalid(import(&suite, &suite.admin_token, bad, &file).await, "options.format");
}
