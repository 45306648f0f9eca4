//! A reader's contact points through the gateway: the school's staff add
//! and read them, the reader reads their own, another school's librarian
//! is refused.

use lectern_core::refusal::Reason;
use lectern_proto::reader::v1::reader_profile_service_client::ReaderProfileServiceClient;
use lectern_proto::reader::v1::{
    ContactChannel, ContactWho, CreateReaderContactRequest, ListReaderContactsRequest, StaffRole,
};
use tonic::Code;

use crate::harness::{TestSuite, assert_refused, bearer};

#[tokio::test]
async fn contact_points_are_for_the_readers_school() {
    let suite = TestSuite::start().await;
    let school = suite.school("XH-PRI", "徐汇区实验小学").await;
    let other = suite.school("XH-MID", "徐汇区第二中学").await;
    let reader = suite.student(&school, "C1").await;
    let assistant = suite.staff("zhang.wei", StaffRole::Assistant, &[&school]).await;
    let stranger = suite.staff("li.lei", StaffRole::Librarian, &[&other]).await;
    let mut profiles = ReaderProfileServiceClient::new(suite.channel.clone());

    let added = profiles
        .create_reader_contact(bearer(
            CreateReaderContactRequest {
                reader_id: reader.id.clone(),
                who: ContactWho::Guardian.into(),
                channel: ContactChannel::Wechat.into(),
                value: "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o".into(),
                label: "爸爸".into(),
                request_id: String::new(),
            },
            &assistant,
        ))
        .await
        .unwrap()
        .into_inner();
    let list = || ListReaderContactsRequest { reader_id: reader.id.clone() };
    let contacts = profiles.list_reader_contacts(suite.admin(list())).await.unwrap().into_inner().contacts;
    assert_eq!(contacts, [added]);
    assert_refused(
        profiles.list_reader_contacts(bearer(list(), &stranger)).await,
        Code::PermissionDenied,
        Reason::SchoolNotAllowed,
    );
}
