//! Year-end promotion through the gateway: a school's librarian previews
//! and applies it; an assistant may not, not even preview.

use lectern_core::refusal::Reason;
use lectern_proto::reader::v1::school_year_service_client::SchoolYearServiceClient;
use lectern_proto::reader::v1::{
    CreateClassRequest, CreateReaderRequest, GetReaderRequest, ReaderStatus, StaffRole, YearEndRequest,
};
use tonic::Code;

use crate::harness::{TestSuite, assert_refused, bearer};

#[tokio::test]
async fn a_librarian_promotes_the_school_year_and_an_assistant_may_not() {
    let suite = TestSuite::start().await;
    let school = suite.school("XH-PRI", "徐汇区实验小学").await;
    let mut class_ids = Vec::new();
    for (name, grade) in [("五年级(1)班", 5), ("六年级(1)班", 6)] {
        let class = suite
            .readers()
            .create_class(suite.admin(CreateClassRequest {
                school_id: school.id.clone(),
                name: name.into(),
                grade,
                school_year: "2026-2027".into(),
                request_id: String::new(),
            }))
            .await
            .unwrap()
            .into_inner();
        class_ids.push(class.id);
    }
    let mut reader_ids = Vec::new();
    for (card, class_id) in [("P5-1", &class_ids[0]), ("P5-2", &class_ids[0]), ("P6-1", &class_ids[1])] {
        let reader = suite
            .readers()
            .create_reader(suite.admin(CreateReaderRequest {
                school_id: school.id.clone(),
                card_barcode: card.into(),
                name: "王小明".into(),
                category: "student".into(),
                class_id: class_id.clone(),
                ..Default::default()
            }))
            .await
            .unwrap()
            .into_inner();
        reader_ids.push(reader.id);
    }
    let librarian = suite.staff("li.hua", StaffRole::Librarian, &[&school]).await;
    let assistant = suite.staff("zhang.wei", StaffRole::Assistant, &[&school]).await;
    let request = || YearEndRequest {
        school_id: school.id.clone(),
        from_school_year: "2026-2027".into(),
        to_school_year: "2027-2028".into(),
        top_grade: 6,
        graduate_expires_on: "2027-07-15".into(),
        request_id: "year-end-xh-pri-2027".into(),
    };
    let mut years = SchoolYearServiceClient::new(suite.channel.clone());

    // The gateway keeps assistants out of year-end altogether.
    for result in [
        years.preview_year_end(bearer(request(), &assistant)).await,
        years.apply_year_end(bearer(request(), &assistant)).await,
    ] {
        assert_refused(result, Code::PermissionDenied, Reason::RoleNotAllowed);
    }

    let preview = years.preview_year_end(bearer(request(), &librarian)).await.unwrap().into_inner();
    let moves: Vec<(&str, i32)> =
        preview.promotions.iter().map(|p| (p.to_class_name.as_str(), p.student_count)).collect();
    assert_eq!(moves, [("六年级(1)班", 2)]);
    assert_eq!((preview.promoted_students, preview.graduates), (2, 1));

    let applied = years.apply_year_end(bearer(request(), &librarian)).await.unwrap().into_inner();
    assert!(applied.applied);
    assert_eq!((applied.promoted_students, applied.graduates), (2, 1));
    let new_class = applied.promotions[0].to_class_id.clone();

    let reader =
        async |id: &str| suite.readers().get_reader(suite.admin(GetReaderRequest { id: id.into() })).await;
    let promoted = reader(&reader_ids[0]).await.unwrap().into_inner();
    assert_eq!(
        (promoted.class_id.as_str(), promoted.grade, promoted.class_name.as_str()),
        (new_class.as_str(), 6, "六年级(1)班")
    );
    let graduate = reader(&reader_ids[2]).await.unwrap().into_inner();
    assert_eq!(
        (graduate.status, graduate.expires_on.as_str()),
        (ReaderStatus::Inactive as i32, "2027-07-15")
    );

    // Pressing the button again (a new request id) is refused; nothing moves twice.
    let again = YearEndRequest { request_id: "year-end-again".into(), ..request() };
    assert_refused(
        years.apply_year_end(bearer(again, &librarian)).await,
        Code::FailedPrecondition,
        Reason::YearEndAlreadyApplied,
    );
    assert_eq!(reader(&reader_ids[0]).await.unwrap().into_inner().grade, 6);
}
