//! The desk's command line against a running suite: a librarian who signs
//! in once keeps working all day, `lectern` renewing the access token with
//! the session file's refresh token as it runs out, until the staff
//! session's twelve hours are over; and a session file put back after its
//! refresh token was spent (a copy in someone else's hands) ends the session.
//! Signing out after the access token ran out still ends the session at
//! the server. `lectern school year-end` previews, applies, and then shows
//! the server's refusal of a second run. `lectern notices homeroom-lists`
//! prints each class's overdue books on a page of its own, and `lectern
//! notices send-due --dry-run` lists the reminders due without sending
//! them. Output piped to a reader that stops early (`| head -1`) ends a
//! command quietly. `lectern reader binding-code` prints a code a family
//! binds with, which `lectern binding list` then shows and `lectern
//! binding remove` removes; an unknown binding is refused in words.

use std::path::PathBuf;
use std::time::Duration;

use lectern::cli::{
    BindingCodeArgs, Connection, DeliveriesArgs, Desk, HomeroomListsArgs, ListBindingsArgs,
    RemoveBindingArgs, SendDueArgs, YearEndArgs, binding_code, deliveries, homeroom_lists, list_bindings,
    remove_binding, send_due, sign_in, sign_out, year_end,
};
use lectern_core::clock::Clock as _;
use lectern_core::refusal::{Reason, reason_of};
use lectern_proto::gateway::v1::WhoAmIRequest;
use lectern_proto::reader::v1::StaffRole;
use tonic::Status;

use crate::harness::{TestSuite, eventually};

/// Who the desk's token belongs to, as the gateway sees it.
async fn whoami(desk: &Desk) -> Result<String, Status> {
    desk.gateway().who_am_i(desk.request(WhoAmIRequest {})).await.map(|answer| answer.into_inner().subject_id)
}

/// A suite with librarian li.lan signed in through the CLI's sign-in, the
/// session kept in a file of the test's own.
async fn signed_in() -> (TestSuite, Connection, PathBuf) {
    let suite = TestSuite::start().await;
    let school = suite.school("XH-PRI", "徐汇实验小学").await;
    suite.staff("li.lan", StaffRole::Librarian, &[&school]).await;
    let folder = std::env::temp_dir().join(format!("lectern-cli-suite-{}", uuid::Uuid::now_v7()));
    let path = folder.join("session.json");
    let server = suite.suite.gateway_url();
    sign_in(&path, server.clone(), "li.lan".into(), "li.lan-own-password".into()).await.unwrap();
    (suite, Connection { server: Some(server) }, path)
}

#[tokio::test]
async fn a_librarian_signs_in_once_for_the_whole_day() {
    let (suite, connection, path) = signed_in().await;
    let morning = Desk::open_at(&connection, &path, suite.clock.now()).await.unwrap();
    let librarian = whoami(&morning).await.unwrap();
    let mut previous = morning.session.clone();
    // 8:00 to 19:00: every hour the access token has run out.
    for hour in 1..=11 {
        suite.clock.advance(chrono::Duration::hours(1));
        let stale = whoami(&morning).await.unwrap_err();
        assert_eq!(reason_of(&stale), Some(Reason::TokenInvalid), "hour {hour}: {stale:?}");
        let desk = Desk::open_at(&connection, &path, suite.clock.now())
            .await
            .unwrap_or_else(|error| panic!("hour {hour}: {error:#}"));
        assert_ne!(desk.session.token, previous.token, "hour {hour}");
        assert_ne!(desk.session.refresh_token, previous.refresh_token, "hour {hour}");
        assert_eq!(whoami(&desk).await.unwrap(), librarian, "hour {hour}");
        // The renewed session was saved: the next command uses it as it is.
        let again = Desk::open_at(&connection, &path, suite.clock.now()).await.unwrap();
        assert_eq!(again.session, desk.session, "hour {hour}");
        previous = desk.session;
    }
    // Twelve hours after signing in the session is over.
    suite.clock.advance(chrono::Duration::minutes(61));
    let error = Desk::open_at(&connection, &path, suite.clock.now()).await.unwrap_err();
    assert!(error.to_string().contains("run `lectern login`"), "{error:#}");
    std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
}

#[tokio::test]
async fn a_spent_refresh_token_ends_the_session() {
    let (suite, connection, path) = signed_in().await;
    let copy = std::fs::read_to_string(&path).unwrap();
    suite.clock.advance(chrono::Duration::minutes(61));
    let renewed = Desk::open_at(&connection, &path, suite.clock.now()).await.unwrap();
    whoami(&renewed).await.unwrap();
    // The copy's refresh token was spent by the renewal, longer ago than
    // the grace two tabs renewing at once get.
    suite.clock.advance(chrono::Duration::seconds(31));
    std::fs::write(&path, copy).unwrap();
    let error = Desk::open_at(&connection, &path, suite.clock.now()).await.unwrap_err();
    assert!(error.to_string().contains("session has ended"), "{error:#}");
    assert!(error.to_string().contains("run `lectern login`"), "{error:#}");
    // The whole session ended, so the renewed token stops working too.
    eventually(Duration::from_secs(10), "the renewed token to be refused", || async {
        whoami(&renewed).await.err().filter(|status| reason_of(status) == Some(Reason::SessionEnded))
    })
    .await;
    std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
}

#[tokio::test]
async fn signing_out_after_the_token_ran_out_ends_the_session_at_the_server() {
    let (suite, connection, path) = signed_in().await;
    let copy = std::fs::read_to_string(&path).unwrap();
    suite.clock.advance(chrono::Duration::minutes(90));
    // The session is renewed just to end it: the server confirms.
    assert_eq!(sign_out(&path, suite.clock.now()).await.unwrap(), "signed out");
    assert!(!path.exists());
    assert_eq!(sign_out(&path, suite.clock.now()).await.unwrap(), "not signed in: nothing to do");
    // The old file back in place cannot bring the session back.
    std::fs::write(&path, copy).unwrap();
    let error = Desk::open_at(&connection, &path, suite.clock.now()).await.unwrap_err();
    assert!(error.to_string().contains("session has ended"), "{error:#}");
    std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
}

#[tokio::test]
async fn the_desk_previews_then_applies_the_year_end() {
    let (suite, connection, path) = signed_in().await;
    let school = suite.school("XH-MID", "徐汇实验中学").await;
    suite.staff("wang.fang", StaffRole::Librarian, &[&school]).await;
    suite.student(&school, "M3-1").await;
    sign_in(&path, suite.suite.gateway_url(), "wang.fang".into(), "wang.fang-own-password".into())
        .await
        .unwrap();
    let desk = Desk::open_at(&connection, &path, suite.clock.now()).await.unwrap();
    let args = |apply: bool| YearEndArgs {
        school: "xh-mid".into(),
        from: "2026-2027".into(),
        to: None,
        top_grade: 9,
        graduate_expires_on: "2027-08-31".parse().unwrap(),
        apply,
        connection: connection.clone(),
    };

    let preview = year_end(&desk, &args(false)).await.unwrap();
    assert!(
        preview.starts_with("year-end 2026-2027 → 2027-2028 (preview: nothing changed yet)\n"),
        "{preview}"
    );
    assert!(preview.contains("  三年级(M3-1)班  3      四年级(M3-1)班  4      1\n"), "{preview}");
    assert!(preview.contains("no class graduates\n"), "{preview}");
    assert!(preview.contains("would open 1 class in 2027-2028 and move 1 student up"), "{preview}");

    let applied = year_end(&desk, &args(true)).await.unwrap();
    assert!(applied.contains("NEW CLASS ID"), "{applied}");
    assert!(applied.contains("done: 1 class opened in 2027-2028, 1 student moved up"), "{applied}");

    // A second run (a new invocation, so a new request id) is refused with the server's word.
    let again = year_end(&desk, &args(true)).await.unwrap_err().to_string();
    assert!(again.starts_with("refused: "), "{again}");
    assert!(again.ends_with("(YEAR_END_ALREADY_APPLIED)"), "{again}");
    std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
}

/// A command whose output is piped to a reader that has already gone (as
/// `| head -1` leaves it after one line) still ends quietly, with success.
#[test]
fn a_command_piped_to_a_reader_that_left_ends_quietly() {
    let folder = tempfile::tempdir().unwrap();
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_lectern"))
        .arg("logout")
        .env("LECTERN_SESSION_FILE", folder.path().join("session.json"))
        .stdout(writer)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{:?}: {stderr}", output.status);
    assert_eq!(stderr, "", "nothing is said about the closed pipe");
}

/// A school with two homerooms and three overdue children (two in one
/// class), lent 20 days ago for 14; a librarian signed in through the CLI.
async fn overdue_homerooms() -> (TestSuite, Desk, PathBuf) {
    use lectern_proto::reader::v1::{CreateClassRequest, CreateReaderRequest};

    let (suite, connection, path) = signed_in().await;
    let schools = suite
        .readers()
        .list_schools(suite.admin(lectern_proto::reader::v1::ListSchoolsRequest::default()))
        .await
        .unwrap()
        .into_inner()
        .schools;
    let school = schools.into_iter().find(|school| school.code == "XH-PRI").unwrap();
    let title = suite.title("978-7-5346-8798-3", "草房子", "曹文轩").await;
    for (class_name, grade, children) in [
        ("三年级(2)班", 3, vec![("R800001", "王小明", "H800001"), ("R800002", "李小红", "H800002")]),
        ("四年级(1)班", 4, vec![("R800003", "陈晨", "H800003")]),
    ] {
        let class = suite
            .readers()
            .create_class(suite.admin(CreateClassRequest {
                school_id: school.id.clone(),
                name: class_name.into(),
                grade,
                school_year: "2026-2027".into(),
                request_id: String::new(),
            }))
            .await
            .unwrap()
            .into_inner();
        for (card, name, copy) in children {
            suite
                .readers()
                .create_reader(suite.admin(CreateReaderRequest {
                    school_id: school.id.clone(),
                    card_barcode: card.into(),
                    name: name.into(),
                    category: "student".into(),
                    class_id: class.id.clone(),
                    expires_on: suite.days_from_now(365),
                    ..Default::default()
                }))
                .await
                .unwrap();
            suite.copy(&title, &school, copy).await;
            suite
                .loans()
                .check_out(suite.admin(crate::harness::lent_days_ago(&suite, card, copy, 20)))
                .await
                .unwrap();
        }
    }
    let desk = Desk::open_at(&connection, &path, suite.clock.now()).await.unwrap();
    (suite, desk, path)
}

#[tokio::test]
async fn homeroom_lists_print_one_page_per_class() {
    let (suite, desk, path) = overdue_homerooms().await;
    let today = suite.today();
    let due = suite.days_from_now(-6);
    let args = |class: Option<&str>| HomeroomListsArgs {
        school: "xh-pri".into(),
        class: class.map(str::to_owned),
        connection: Connection::default(),
    };

    let text = homeroom_lists(&desk, &args(None), today).await.unwrap();
    let pages: Vec<&str> = text.split('\x0c').collect();
    assert_eq!(pages.len(), 2, "a form feed between the two classes: {text}");
    assert!(pages[0].starts_with(&format!("徐汇实验小学 三年级(2)班 逾期图书 {today}\n")), "{text}");
    for name in ["王小明", "李小红"] {
        let line =
            pages[0].lines().find(|line| line.starts_with(name)).unwrap_or_else(|| panic!("{name}: {text}"));
        assert!(line.contains("草房子") && line.contains(&due) && line.ends_with("6 天"), "{line}");
    }
    assert!(pages[0].ends_with("共 2 名学生，2 本逾期图书\n"), "{text}");
    assert!(pages[1].starts_with(&format!("徐汇实验小学 四年级(1)班 逾期图书 {today}\n")), "{text}");
    assert!(pages[1].contains("陈晨") && !pages[1].contains("王小明"), "{text}");

    let one = homeroom_lists(&desk, &args(Some("四年级(1)班")), today).await.unwrap();
    assert!(!one.contains('\x0c') && one.contains("陈晨") && !one.contains("王小明"), "{one}");
    let unknown = homeroom_lists(&desk, &args(Some("九年级(9)班")), today).await.unwrap_err().to_string();
    assert!(unknown.contains("no class named"), "{unknown}");
    std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
}

#[tokio::test]
async fn send_due_dry_run_lists_what_would_go_out_and_sends_nothing() {
    let (suite, desk, path) = overdue_homerooms().await;
    let args =
        SendDueArgs { school: Some("XH-PRI".into()), dry_run: true, connection: Connection::default() };
    // The schedules come from circulation's events, a moment after lending.
    let text = eventually(Duration::from_secs(10), "the three overdue loans to be due", || async {
        send_due(&desk, &args).await.ok().filter(|text| text.contains("3 reminders due today"))
    })
    .await;
    let today = suite.today();
    assert!(
        text.ends_with(&format!(
            "3 reminders due today ({today}), 0 loans already returned; dry run: nothing was sent\n"
        )),
        "{text}"
    );
    for name in ["王小明", "李小红", "陈晨"] {
        let line = text.lines().find(|line| line.contains(name)).unwrap_or_else(|| panic!("{name}: {text}"));
        assert!(line.starts_with("XH-PRI") && line.contains("草房子"), "{line}");
        assert!(line.contains("1st overdue") && line.contains("reader/in-app"), "{line}");
    }
    // Nothing was made: asking again lists the same three.
    let again = send_due(&desk, &args).await.unwrap();
    assert_eq!(again, text);

    // Sent for real, they reach the readers' inboxes and the delivery log.
    let sent = send_due(&desk, &SendDueArgs { dry_run: false, ..args.clone() }).await.unwrap();
    assert!(sent.contains("3 reminders due today") && sent.ends_with("handed to the channels\n"), "{sent}");
    let log = DeliveriesArgs {
        school: "XH-PRI".into(),
        state: None,
        limit: 100,
        connection: Connection::default(),
    };
    let listed = eventually(Duration::from_secs(10), "the inbox deliveries to be sent", || async {
        deliveries(&desk, &log).await.ok().filter(|text| text.matches(" sent ").count() >= 3)
    })
    .await;
    for name in ["王小明", "李小红", "陈晨"] {
        let line =
            listed.lines().find(|line| line.contains(name)).unwrap_or_else(|| panic!("{name}: {listed}"));
        assert!(line.contains("1st overdue") && line.contains("in-app"), "{line}");
    }
    assert!(send_due(&desk, &args).await.unwrap().starts_with("0 reminders due today"), "made once");
    std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
}

/// A WeChat user binding `card` with the printed `code`, as the gateway
/// signs them in after code2session (its service token, at the reader
/// service) and the mini-program's bind form sends it.
async fn bind_with_code(suite: &TestSuite, card: &str, code: &str) {
    use lectern_proto::reader::v1::family_service_client::FamilyServiceClient;
    use lectern_proto::reader::v1::identity_service_client::IdentityServiceClient;
    use lectern_proto::reader::v1::{
        BindReaderRequest, BindingRelation, LoginRequest, ServiceCredentials, SignInWechatRequest,
        login_request,
    };

    let service = IdentityServiceClient::new(suite.channel_to("reader"))
        .login(LoginRequest {
            credentials: Some(login_request::Credentials::Service(ServiceCredentials {
                service: "gateway".into(),
                key: crate::harness::SERVICE_KEY.into(),
            })),
        })
        .await
        .unwrap()
        .into_inner()
        .access_token;
    let request =
        SignInWechatRequest { app_id: "wx-cli".into(), openid: "o-cli".into(), ..Default::default() };
    let ticket = FamilyServiceClient::new(suite.channel_to("reader"))
        .sign_in_wechat(crate::harness::bearer(request, &service))
        .await
        .unwrap()
        .into_inner()
        .binding_ticket;
    FamilyServiceClient::new(suite.channel.clone())
        .bind_reader(BindReaderRequest {
            binding_ticket: ticket,
            card_barcode: card.into(),
            binding_code: code.into(),
            relation: BindingRelation::Self_.into(),
            ..Default::default()
        })
        .await
        .unwrap();
}

#[tokio::test]
async fn the_desk_prints_a_binding_code_then_lists_and_removes_the_binding() {
    let (suite, connection, path) = signed_in().await;
    let schools = suite
        .readers()
        .list_schools(suite.admin(lectern_proto::reader::v1::ListSchoolsRequest::default()))
        .await
        .unwrap()
        .into_inner()
        .schools;
    let school = schools.into_iter().find(|school| school.code == "XH-PRI").unwrap();
    suite.student(&school, "R700001").await;
    let desk = Desk::open_at(&connection, &path, suite.clock.now()).await.unwrap();
    let zone = chrono_tz::Asia::Shanghai;
    let code_for = |card: &str| BindingCodeArgs { card: card.into(), connection: Connection::default() };
    let list = |card: Option<&str>, school: Option<&str>| ListBindingsArgs {
        card: card.map(str::to_owned),
        school: school.map(str::to_owned),
        connection: Connection::default(),
    };

    let text = binding_code(&desk, &code_for("R700001"), zone).await.unwrap();
    let heading = "binding code for R700001 王小明, 三年级(R700001)班: ";
    let first = text.lines().next().unwrap();
    let code = first.strip_prefix(heading).unwrap_or_else(|| panic!("{text}"));
    assert!(
        code.len() == 9
            && code.chars().enumerate().all(|(at, c)| if at == 4 { c == ' ' } else { c.is_ascii_digit() }),
        "eight digits grouped by four: {text}"
    );
    let expires = (suite.clock.now() + chrono::Duration::days(14)).with_timezone(&zone);
    assert!(
        text.contains(&format!("use it by:  {} (Asia/Shanghai)\n", expires.format("%Y-%m-%d %H:%M"))),
        "{text}"
    );
    assert!(text.contains("\"I am a parent\""), "{text}");
    let unknown = binding_code(&desk, &code_for("R799999"), zone).await.unwrap_err().to_string();
    assert!(unknown.ends_with("(READER_NOT_FOUND)"), "{unknown}");

    // Nothing bound yet.
    let one = list_bindings(&desk, &list(Some("R700001"), None), zone).await.unwrap();
    assert_eq!(one, "R700001 王小明, 三年级(R700001)班\n  no WeChat is bound to this card\n");
    let all = list_bindings(&desk, &list(None, Some("xh-pri")), zone).await.unwrap();
    assert_eq!(all, "no WeChat is bound to a reader of xh-pri\n");

    // A family binds with the code as printed; the school's list shows it.
    bind_with_code(&suite, "R700001", code).await;
    let all = list_bindings(&desk, &list(None, Some("XH-PRI")), zone).await.unwrap();
    let row = all.lines().nth(1).unwrap_or_else(|| panic!("{all}"));
    assert!(all.starts_with("ID "), "{all}");
    assert!(row.contains("R700001  王小明  微信 #") && row.contains("the reader  binding code"), "{all}");
    let today = suite.clock.now().with_timezone(&zone).format("%Y-%m-%d").to_string();
    assert!(row.contains(&today), "bound today, the school's day: {all}");
    assert!(!all.contains("o-cli"), "never the openid: {all}");
    let binding_id = row.split_whitespace().next().unwrap().to_owned();

    let remove = |id: &str| RemoveBindingArgs { binding_id: id.into(), connection: Connection::default() };
    let removed = remove_binding(&desk, &remove(&binding_id)).await.unwrap();
    assert_eq!(
        removed,
        format!("binding removed: {binding_id}; the WeChat signed in with it has been signed out\n")
    );
    let one = list_bindings(&desk, &list(Some("R700001"), None), zone).await.unwrap();
    assert!(one.ends_with("  no WeChat is bound to this card\n"), "{one}");
    // Removing it again, or an id that never was, is refused in words.
    for id in [binding_id.as_str(), "0193a1b2-0000-7000-8000-000000000000"] {
        let error = remove_binding(&desk, &remove(id)).await.unwrap_err().to_string();
        assert!(error.ends_with("(BINDING_NOT_FOUND)"), "{error}");
    }
    std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
}
