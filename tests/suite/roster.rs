//! Roster import through the gateway: a librarian imports a OneRoster 1.1
//! export for their school and finds the students at the desk; a librarian
//! of another school is refused.

use std::time::Duration;

use lectern_core::refusal::Reason;
use lectern_proto::reader::v1::roster_service_client::RosterServiceClient;
use lectern_proto::reader::v1::{
    ImportRosterRequest, RosterFile, RosterFormat, RosterReport, SearchReadersRequest, StaffRole,
    import_roster_response,
};
use tonic::{Code, Status};

use crate::harness::{TestSuite, assert_refused, bearer};

const ORGS: &str = "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId\n\
    d1,active,,District,district,,\n\
    o1,active,,徐汇区实验小学,school,XH-PRI,d1\n";
const USERS: &str = "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,\
    givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password\n\
    u1,active,,true,o1,student,wxm,,小明,王,,G3101001,,,,,03,\n\
    u2,active,,true,o1,student,lxh,,小红,李,,G3101002,,,,,03,\n\
    u3,active,,true,o1,teacher,zhao,,老师,赵,,T001,,,,,,\n\
    u4,active,,true,o1,guardian,p1,,大明,王,,,,,,,,\n";
const CLASSES: &str = "sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,classType,\
    location,schoolSourcedId,termSourcedIds,subjects,subjectCodes,periods\n\
    c1,active,,三年级(1)班,03,k1,,homeroom,,o1,t1,,,\n";
const ENROLLMENTS: &str = "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,primary\n\
    e1,active,,c1,o1,u1,student,\n\
    e2,active,,c1,o1,u2,student,\n\
    e3,active,,c1,o1,u3,teacher,true\n";

async fn import(
    suite: &TestSuite,
    token: &str,
    request: ImportRosterRequest,
) -> Result<RosterReport, Status> {
    let mut client = RosterServiceClient::new(suite.channel.clone());
    let mut stream = client.import_roster(bearer(request, token)).await?.into_inner();
    let mut report = None;
    while let Some(message) = stream.message().await? {
        if let Some(import_roster_response::Event::Report(done)) = message.event {
            report = Some(done);
        }
    }
    Ok(report.expect("the import ends with a report"))
}

#[tokio::test]
async fn a_librarian_imports_a_oneroster_export_for_their_school() {
    let suite = TestSuite::start().await;
    let school = suite.school("XH-PRI", "徐汇区实验小学").await;
    let other = suite.school("XH-MID", "徐汇区第二中学").await;
    let files = [
        ("orgs.csv", ORGS),
        ("Users.csv", USERS),
        ("classes.csv", CLASSES),
        ("enrollments.csv", ENROLLMENTS),
    ]
    .into_iter()
    .map(|(name, text)| RosterFile { name: name.into(), content: text.as_bytes().to_vec() })
    .collect();
    let request = ImportRosterRequest {
        format: RosterFormat::Oneroster11.into(),
        school_id: school.id.clone(),
        files,
        apply: true,
        school_year: "2026-2027".into(),
        request_id: uuid::Uuid::now_v7().to_string(),
        ..Default::default()
    };

    let librarian = suite.staff("li.hua", StaffRole::Librarian, &[&school]).await;
    let report = import(&suite, &librarian, request.clone()).await.unwrap();
    assert!(report.applied, "{:?}", report.errors);
    assert_eq!((report.created, report.classes_created, report.skipped), (3, 1, 1));

    // The students are at the desk, in their class.
    let found = suite
        .readers()
        .search_readers(bearer(
            SearchReadersRequest {
                school_id: school.id.clone(), query: "王小".into(), ..Default::default()
            },
            &librarian,
        ))
        .await
        .unwrap()
        .into_inner()
        .readers;
    let found: Vec<(&str, &str, &str)> = found
        .iter()
        .map(|reader| (reader.name.as_str(), reader.number.as_str(), reader.class_name.as_str()))
        .collect();
    assert_eq!(found, vec![("王小明", "G3101001", "三年级(1)班")]);

    // A retry with the same request id gets the same report and changes nothing.
    let again = tokio::time::timeout(Duration::from_secs(30), import(&suite, &librarian, request.clone()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again, report);

    // A librarian of another school may not import here.
    let outsider = suite.staff("zhao.lei", StaffRole::Librarian, &[&other]).await;
    assert_refused(
        import(&suite, &outsider, request).await,
        Code::PermissionDenied,
        Reason::SchoolNotAllowed,
    );
}
