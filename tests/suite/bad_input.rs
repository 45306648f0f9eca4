//! Bad input gets INVALID_ARGUMENT naming the field, and changes nothing.

use lectern_proto::catalog::v1::{
    CreateCopyRequest, CreateTitleRequest, GetCopyRequest, SearchTitlesRequest,
};
use lectern_proto::circulation::v1::{CheckOutRequest, GetLoanRequest, ListLoansRequest};
use lectern_proto::reader::v1::{
    CreateReaderRequest, CreateSchoolRequest, CreateStaffAccountRequest, GetReaderRequest, ListSchoolsRequest,
};

use crate::harness::{TestSuite, assert_invalid};

#[tokio::test]
async fn malformed_requests_name_the_field_and_change_nothing() {
    let suite = TestSuite::start().await;
    let school = suite.school("XH-PRI", "徐汇区实验小学").await;

    // Malformed ids.
    assert_invalid(
        suite.readers().get_reader(suite.admin(GetReaderRequest { id: "12-abc".into() })).await,
        "id",
    );
    assert_invalid(suite.catalog().get_copy(suite.admin(GetCopyRequest { id: String::new() })).await, "id");
    assert_invalid(suite.loans().get_loan(suite.admin(GetLoanRequest { id: "loan-1".into() })).await, "id");
    assert_invalid(
        suite
            .loans()
            .list_loans(suite.admin(ListLoansRequest { reader_id: "x".into(), ..Default::default() }))
            .await,
        "reader_id",
    );

    // Empty and malformed barcodes.
    assert_invalid(
        suite
            .loans()
            .check_out(suite.admin(CheckOutRequest {
                reader_card_barcode: String::new(),
                copy_barcode: "P1".into(),
                ..Default::default()
            }))
            .await,
        "reader_card_barcode",
    );
    assert_invalid(
        suite
            .loans()
            .check_out(suite.admin(CheckOutRequest {
                reader_card_barcode: "R1".into(),
                copy_barcode: "P 1".into(),
                ..Default::default()
            }))
            .await,
        "copy_barcode",
    );

    // Oversized strings.
    let huge = "书".repeat(10_000);
    assert_invalid(
        suite
            .catalog()
            .create_title(suite.admin(CreateTitleRequest { title: huge.clone(), ..Default::default() }))
            .await,
        "title",
    );
    assert_invalid(
        suite
            .readers()
            .create_school(suite.admin(CreateSchoolRequest {
                code: "BIG".into(),
                name: huge,
                request_id: String::new(),
            }))
            .await,
        "name",
    );
    assert_invalid(
        suite
            .catalog()
            .search_titles(suite.admin(SearchTitlesRequest { query: "x".repeat(201), ..Default::default() }))
            .await,
        "query",
    );

    // Unknown enum values and unknown categories.
    assert_invalid(
        suite
            .identity()
            .create_staff_account(suite.admin(CreateStaffAccountRequest {
                username: "zhang.san".into(),
                display_name: "张三".into(),
                role: 42,
                initial_password: "a-long-enough-password".into(),
                school_ids: Vec::new(),
                request_id: String::new(),
            }))
            .await,
        "role",
    );
    let title = suite.title("9787020002207", "红楼梦", "曹雪芹").await;
    assert_invalid(
        suite
            .catalog()
            .create_copy(suite.admin(CreateCopyRequest {
                title_id: title.id.clone(),
                barcode: "P000001".into(),
                school_id: school.id.clone(),
                status: 99,
                ..Default::default()
            }))
            .await,
        "status",
    );
    assert_invalid(
        suite
            .readers()
            .create_reader(suite.admin(CreateReaderRequest {
                school_id: school.id.clone(),
                card_barcode: "R1".into(),
                name: "王小明".into(),
                category: "wizard".into(),
                ..Default::default()
            }))
            .await,
        "category",
    );
    assert_invalid(
        suite
            .readers()
            .create_reader(suite.admin(CreateReaderRequest {
                school_id: school.id.clone(),
                card_barcode: "R1".into(),
                name: "王小明".into(),
                category: "student".into(),
                expires_on: "31/07/2027".into(),
                ..Default::default()
            }))
            .await,
        "expires_on",
    );

    // Nothing was written by any of it.
    let schools =
        suite.readers().list_schools(suite.admin(ListSchoolsRequest::default())).await.unwrap().into_inner();
    assert_eq!(schools.schools.len(), 1);
    let copies = suite
        .catalog()
        .list_copies(suite.admin(lectern_proto::catalog::v1::ListCopiesRequest {
            title_id: title.id,
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(copies.copies.is_empty());
    let status = suite
        .readers()
        .lookup_reader(
            suite.admin(lectern_proto::reader::v1::LookupReaderRequest { card_barcode: "R1".into() }),
        )
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::NotFound);
}
