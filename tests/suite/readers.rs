//! Finding readers at the desk: by part of the name, card or student
//! number, within a school and optionally a class.

use lectern_core::refusal::Reason;
use lectern_proto::reader::v1::{CreateClassRequest, CreateReaderRequest, SearchReadersRequest};
use tonic::Code;

use crate::harness::{TestSuite, assert_invalid, assert_refused};

#[tokio::test]
async fn readers_are_found_by_name_card_or_number() {
    let suite = TestSuite::start().await;
    let school = suite.school("XH-PRI", "徐汇区实验小学").await;
    let other = suite.school("XH-MID", "徐汇区第二中学").await;
    let class = suite
        .readers()
        .create_class(suite.admin(CreateClassRequest {
            school_id: school.id.clone(),
            name: "三年级(1)班".into(),
            grade: 3,
            school_year: "2026-2027".into(),
            request_id: String::new(),
        }))
        .await
        .unwrap()
        .into_inner();
    let register =
        |school_id: &str, card: &str, name: &str, number: &str, class_id: &str| CreateReaderRequest {
            school_id: school_id.into(),
            card_barcode: card.into(),
            name: name.into(),
            category: "student".into(),
            class_id: class_id.into(),
            number: number.into(),
            ..Default::default()
        };
    for request in [
        register(&school.id, "R1", "王小明", "G001", &class.id),
        register(&school.id, "R2", "王小红", "G002", ""),
        register(&school.id, "R3", "Emma Wang", "", &class.id),
        register(&other.id, "R4", "王大力", "G001", ""),
    ] {
        suite.readers().create_reader(suite.admin(request)).await.expect("reader registered");
    }

    let search = |query: &str, class_id: &str| SearchReadersRequest {
        school_id: school.id.clone(),
        query: query.into(),
        class_id: class_id.into(),
        ..Default::default()
    };
    let names = |readers: Vec<lectern_proto::reader::v1::Reader>| -> Vec<String> {
        readers.into_iter().map(|reader| reader.name).collect()
    };
    let found = suite.readers().search_readers(suite.admin(search("王小", ""))).await.unwrap().into_inner();
    assert_eq!(names(found.readers), ["王小明", "王小红"], "by name, only this school");
    let found = suite.readers().search_readers(suite.admin(search("wang", ""))).await.unwrap().into_inner();
    assert_eq!(names(found.readers), ["Emma Wang"], "any case");
    let found = suite.readers().search_readers(suite.admin(search("G002", ""))).await.unwrap().into_inner();
    assert_eq!(names(found.readers.clone()), ["王小红"], "by student number");
    assert_eq!(found.readers[0].number, "G002");
    let found = suite.readers().search_readers(suite.admin(search("R1", ""))).await.unwrap().into_inner();
    assert_eq!(names(found.readers), ["王小明"], "by card");
    let found =
        suite.readers().search_readers(suite.admin(search("王", &class.id))).await.unwrap().into_inner();
    assert_eq!(names(found.readers), ["王小明"], "within a class");
    let found = suite.readers().search_readers(suite.admin(search("100%", ""))).await.unwrap().into_inner();
    assert!(found.readers.is_empty(), "wildcards are taken literally");

    assert_refused(
        suite.readers().create_reader(suite.admin(register(&school.id, "R5", "李雷", "G001", ""))).await,
        Code::AlreadyExists,
        Reason::ReaderNumberTaken,
    );
    assert_invalid(
        suite.readers().create_reader(suite.admin(register(&school.id, "R6", "韩梅梅", "G 7", ""))).await,
        "number",
    );
    assert_invalid(suite.readers().search_readers(suite.admin(search("  ", ""))).await, "query");
}
