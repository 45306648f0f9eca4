//! `lectern up` itself, the binary a school or a district runs. The demo
//! district loads into empty databases and only there: on SQLite files in
//! the data directory, or, when the suite runs on PostgreSQL, with
//! `--database-url` on databases of the test's own on that server (the
//! password in the URL shown nowhere, the URL's parameters used by every
//! service). A second start finds the district and leaves it be. A URL
//! `lectern up` cannot use is refused before anything is written; a user
//! who may not create databases is told what to ask for, and Lectern runs
//! once the databases are made that way; two starts creating the same
//! databases at once both go on.

use std::io::{BufRead as _, BufReader, Read as _};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use diesel::prelude::*;
use diesel::sql_types::Text;
use lectern::postgres::ServerUrl;
use lectern::suite::SERVICES;
use lectern_common::db::{drop_database, with_database};
use lectern_common::testing::{TEST_DATABASE_URL, postgres_server_url};
use lectern_proto::catalog::v1::SearchTitlesRequest;
use lectern_proto::catalog::v1::catalog_service_client::CatalogServiceClient;
use lectern_proto::gateway::v1::gateway_service_client::GatewayServiceClient;
use lectern_proto::reader::v1::reader_service_client::ReaderServiceClient;
use lectern_proto::reader::v1::{ListSchoolsRequest, LoginRequest, StaffCredentials, login_request};
use tonic::transport::Channel;

use crate::harness::bearer;

/// How long a start may take: a debug build loading the demo on a busy
/// machine takes minutes.
const START_WITHIN: Duration = Duration::from_secs(600);

/// A `lectern up` process, stopped (killed, if a test failed) when dropped.
pub(crate) struct Up {
    child: Child,
    stdout: Receiver<String>,
    stderr: Option<JoinHandle<String>>,
    /// Everything printed up to "Press Ctrl-C to stop."
    banner: String,
}

/// `lectern up` with `args` and nothing from the caller's environment.
/// The PostgreSQL server of the run, for the tests only PostgreSQL has
/// (the build script marks them ignored without one).
fn postgres_server() -> String {
    postgres_server_url()
        .unwrap_or_else(|| panic!("this test needs a PostgreSQL server: set {TEST_DATABASE_URL}"))
}

fn up_command(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_lectern"));
    command
        .arg("up")
        .args(args)
        .env_remove("LECTERN_DATABASE_URL")
        .env_remove("LECTERN_DATA_DIR")
        .env_remove("LECTERN_GATEWAY_ADDR")
        .env_remove("LECTERN_BOOTSTRAP_ADMIN_PASSWORD");
    command
}

impl Up {
    /// Starts `lectern up` and waits for its banner.
    pub(crate) fn start(args: &[&str]) -> Self {
        let mut child = up_command(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        let (lines, stdout) = channel();
        let out = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if lines.send(line).is_err() {
                    break;
                }
            }
        });
        let mut err = child.stderr.take().unwrap();
        let stderr = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = err.read_to_string(&mut text);
            text
        });
        let mut up = Self { child, stdout, stderr: Some(stderr), banner: String::new() };
        let deadline = Instant::now() + START_WITHIN;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match up.stdout.recv_timeout(left) {
                Ok(line) => {
                    up.banner.push_str(&line);
                    up.banner.push('\n');
                    if line == "Press Ctrl-C to stop." {
                        return up;
                    }
                }
                Err(_) => {
                    let _ = up.child.kill();
                    let stderr = up.stderr.take().map(|handle| handle.join().unwrap()).unwrap_or_default();
                    panic!("lectern up did not come up:\n{}\n{stderr}", up.banner);
                }
            }
        }
    }

    /// The text after a banner label, e.g. `gateway (gRPC):`.
    pub(crate) fn field(&self, label: &str) -> &str {
        self.banner
            .lines()
            .find_map(|line| line.trim_start().strip_prefix(label))
            .map(str::trim)
            .unwrap_or_else(|| panic!("no {label:?} in the banner:\n{}", self.banner))
    }

    fn admin_password(&self) -> String {
        let (username, password) = self.sign_in_line("admin sign-in:");
        assert_eq!(username, "admin", "{}", self.banner);
        password
    }

    /// The username and password on a demo sign-in line, read as the
    /// browser tests read it: `<label>:  <username> / <password>  …`.
    pub(crate) fn sign_in_line(&self, label: &str) -> (String, String) {
        let line = self.field(label);
        let (username, rest) = line.split_once(" / ").unwrap_or_else(|| panic!("{line}"));
        let password = rest.split_whitespace().next().unwrap_or_else(|| panic!("{line}"));
        (username.to_owned(), password.to_owned())
    }

    async fn gateway(&self) -> Channel {
        Channel::from_shared(format!("http://{}", self.field("gateway (gRPC):")))
            .unwrap()
            .connect()
            .await
            .unwrap()
    }

    /// Ctrl-C, as at the desk; returns what was printed after the banner,
    /// then standard error.
    fn stop(mut self) -> (String, String) {
        let interrupted = Command::new("kill").args(["-INT", &self.child.id().to_string()]).status().unwrap();
        assert!(interrupted.success());
        // The process closes its output when it exits: read the rest of it
        // until then, within a minute.
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut rest = Vec::new();
        loop {
            match self.stdout.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(line) => rest.push(line),
                Err(RecvTimeoutError::Disconnected) => break,
                Err(RecvTimeoutError::Timeout) => panic!("lectern up did not stop within a minute of Ctrl-C"),
            }
        }
        let status = self.child.wait().unwrap();
        let stderr = self.stderr.take().map(|handle| handle.join().unwrap()).unwrap_or_default();
        assert!(status.success(), "{status:?}: {stderr}");
        (rest.join("\n"), stderr)
    }
}

impl Drop for Up {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The four databases of one `lectern up` on the test server, dropped at
/// the end of the test.
pub(crate) struct ServerDatabases {
    server: String,
    pub(crate) prefix: String,
}

impl ServerDatabases {
    pub(crate) fn new(server: &str, label: &str) -> Self {
        Self {
            server: server.to_owned(),
            prefix: format!("lectern_t_{label}_{}", uuid::Uuid::now_v7().simple()),
        }
    }

    fn names(&self) -> Vec<String> {
        SERVICES.iter().map(|service| format!("{}_{service}", self.prefix)).collect()
    }

    /// Which of them exist now.
    fn existing(&self) -> Vec<String> {
        #[derive(QueryableByName)]
        struct Database {
            #[diesel(sql_type = Text)]
            datname: String,
        }
        let mut connection = PgConnection::establish(&self.server).unwrap();
        let all: Vec<Database> =
            diesel::sql_query("SELECT datname FROM pg_database").load(&mut connection).unwrap();
        let names = self.names();
        names.into_iter().filter(|name| all.iter().any(|database| &database.datname == name)).collect()
    }
}

impl Drop for ServerDatabases {
    fn drop(&mut self) {
        for name in self.names() {
            if let Err(error) = drop_database(&self.server, &name) {
                eprintln!("could not drop test database {name}: {error}");
            }
        }
    }
}

/// `url` with `user:password@` in place of its user information.
fn with_user(url: &str, user_info: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let hosts = rest[..authority_end].rsplit_once('@').map_or(&rest[..authority_end], |(_, hosts)| hosts);
    format!("{scheme}://{user_info}@{hosts}{}", &rest[authority_end..])
}

/// The user and password of a URL, if it has them.
fn user_info(url: &str) -> (Option<String>, Option<String>) {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = &rest[..rest.find(['/', '?']).unwrap_or(rest.len())];
    match authority.rsplit_once('@').map(|(info, _)| info) {
        Some(info) => match info.split_once(':') {
            Some((user, password)) => (Some(user.to_owned()), Some(password.to_owned())),
            None => (Some(info.to_owned()), None),
        },
        None => (None, None),
    }
}

fn with_parameter(url: &str, parameter: &str) -> String {
    format!("{url}{}{parameter}", if url.contains('?') { '&' } else { '?' })
}

async fn sign_in(gateway: &Channel, username: &str, password: &str) -> String {
    GatewayServiceClient::new(gateway.clone())
        .login(LoginRequest {
            credentials: Some(login_request::Credentials::Staff(StaffCredentials {
                username: username.into(),
                password: password.into(),
            })),
        })
        .await
        .unwrap_or_else(|status| panic!("{username} signs in with the password the banner printed: {status}"))
        .into_inner()
        .access_token
}

/// The demo district as the admin sees it: schools, and titles about forests.
async fn district(gateway: &Channel, token: &str) -> (Vec<String>, usize) {
    let schools = ReaderServiceClient::new(gateway.clone())
        .list_schools(bearer(ListSchoolsRequest::default(), token))
        .await
        .unwrap()
        .into_inner()
        .schools;
    let forest = CatalogServiceClient::new(gateway.clone())
        .search_titles(bearer(SearchTitlesRequest { query: "森林".into(), ..Default::default() }, token))
        .await
        .unwrap()
        .into_inner();
    let mut codes: Vec<String> = schools.into_iter().map(|school| school.code).collect();
    codes.sort();
    (codes, forest.hits.len())
}

/// Which databases have a connection from `application_name`.
fn databases_used_by(server: &str, application_name: &str) -> Vec<String> {
    #[derive(QueryableByName)]
    struct Used {
        #[diesel(sql_type = Text)]
        datname: String,
    }
    let mut connection = PgConnection::establish(server).unwrap();
    let used: Vec<Used> = diesel::sql_query(
        "SELECT DISTINCT datname::text AS datname FROM pg_stat_activity WHERE application_name = $1",
    )
    .bind::<Text, _>(application_name)
    .load(&mut connection)
    .unwrap();
    let mut names: Vec<String> = used.into_iter().map(|used| used.datname).collect();
    names.sort();
    names
}

/// The demo loads on the first start and not on the second, on the suite's
/// backend: new PostgreSQL databases when the suite runs on PostgreSQL, an
/// empty data directory on SQLite.
#[tokio::test]
async fn lectern_up_loads_the_demo_into_empty_databases_once() {
    let folder = tempfile::tempdir().unwrap();
    let data_dir = folder.path().join("data");
    let data_dir_arg = data_dir.display().to_string();
    let mut args = vec![
        "--demo",
        "--listen",
        "127.0.0.1:0",
        "--http-listen",
        "127.0.0.1:0",
        // Not the default :6001, which another test or a running Lectern
        // may hold.
        "--sip2-listen",
        "127.0.0.1:0",
        "--data-dir",
        &data_dir_arg,
    ];
    let server = postgres_server_url();
    let databases = server.as_deref().map(|server| ServerDatabases::new(server, "up"));
    let application_name = format!("lectern_t_{}", uuid::Uuid::now_v7().simple());
    // A password the server (trusting loopback in tests) ignores, unless
    // the suite's URL has one: either way it must be shown nowhere.
    let database_url = match (&server, &databases) {
        (Some(server), Some(databases)) => {
            let url = with_database(server, &databases.prefix);
            let url = match user_info(&url) {
                (Some(user), None) => with_user(&url, &format!("{user}:never-shown-pw")),
                _ => url,
            };
            Some(with_parameter(&url, &format!("application_name={application_name}")))
        }
        _ => None,
    };
    if let Some(url) = &database_url {
        args.extend(["--database-url", url]);
    }

    let first = Up::start(&args);
    assert!(
        first.field("demo district:").starts_with("2 schools, 10 classes, 100 readers"),
        "{}",
        first.banner
    );
    assert!(data_dir.join("service.key").exists(), "the service key is kept in the data directory");
    let desk = first.field("desk (browser):");
    assert!(desk.starts_with("http://127.0.0.1:") && desk.ends_with('/'), "{}", first.banner);
    assert!(first.banner.contains(&format!("Open {desk} in a browser")), "{}", first.banner);
    let sip2 = first.field("SIP2 (self-check):");
    assert!(sip2.starts_with("127.0.0.1:") && !sip2.ends_with(":0"), "{}", first.banner);
    assert!(first.banner.contains("  SIP2 machine:    "), "{}", first.banner);
    assert!(first.banner.contains("  readers' PINs:   the last four digits of the card"), "{}", first.banner);
    match (&server, &databases) {
        (Some(server), Some(databases)) => {
            let shown = first.field("databases:");
            assert!(shown.starts_with("PostgreSQL postgres"), "{}", first.banner);
            assert!(first.banner.contains(&databases.names().join(", ")), "{}", first.banner);
            assert!(first.banner.contains("(created just now)"), "{}", first.banner);
            assert!(first.field("data directory:").ends_with("(the service key only)"), "{}", first.banner);
            assert!(!data_dir.join("reader.db").exists(), "no SQLite file beside the key");
            // Every service connected with the URL's parameters.
            let mut names = databases.names();
            names.sort();
            assert_eq!(databases_used_by(server, &application_name), names);
        }
        _ => {
            assert!(first.field("databases:").starts_with("SQLite"), "{}", first.banner);
            for service in SERVICES {
                assert!(data_dir.join(format!("{service}.db")).exists(), "{service}.db");
            }
        }
    }
    let password = first.admin_password();
    let gateway = first.gateway().await;
    let token = sign_in(&gateway, "admin", &password).await;
    let (schools, forest_titles) = district(&gateway, &token).await;
    // The desk's demo staff, each on a line of their own.
    for (label, wanted) in [
        ("librarian:", "xh-librarian"),
        ("assistant:", "xh-assistant"),
        ("district librarian:", "district-librarian"),
    ] {
        let (username, staff_password) = first.sign_in_line(label);
        assert_eq!(username, wanted, "{}", first.banner);
        sign_in(&gateway, &username, &staff_password).await;
    }
    assert_eq!(schools.len(), 2, "{schools:?}");
    assert!(forest_titles >= 3, "{forest_titles} titles about forests");
    drop(gateway);
    let first_banner = first.banner.clone();
    let (after, stderr) = first.stop();
    assert!(after.contains("Lectern stopped."), "{after}");

    let second = Up::start(&args);
    assert!(second.field("demo district:").starts_with("not loaded"), "{}", second.banner);
    assert!(!second.banner.contains("created just now"), "{}", second.banner);
    let gateway = second.gateway().await;
    let token = sign_in(&gateway, "admin", &password).await;
    assert_eq!(district(&gateway, &token).await, (schools, forest_titles), "the demo was not loaded twice");
    drop(gateway);
    let second_banner = second.banner.clone();
    let (second_after, second_stderr) = second.stop();

    if let Some(url) = &database_url
        && let (_, Some(password)) = user_info(url)
    {
        for output in [&first_banner, &after, &stderr, &second_banner, &second_after, &second_stderr] {
            assert!(!output.contains(&password), "the database password was shown:\n{output}");
        }
    }
}

/// What `lectern up` cannot use is refused with a sentence that says what
/// to do, and nothing is written: no data directory, no database.
#[test]
fn lectern_up_refuses_a_database_url_it_cannot_use_and_writes_nothing() {
    let folder = tempfile::tempdir().unwrap();
    let data_dir = folder.path().join("data");
    // (by flag or by variable, URL, what the refusal says)
    let refused = [
        (true, "./lectern-data/catalog.db", "leave it out and choose the folder with --data-dir"),
        (false, "sqlite://lectern.db", "takes a PostgreSQL server"),
        (true, "postgres://db.example:54x2/lectern", "the port is not a number"),
        (true, "postgres://db.example/Lectern", "use lower-case letters, digits and '_'"),
        (true, "postgres://db.example/lectern?dbname=other", "leave dbname out"),
        // Nothing listens on port 1: refused at once.
        (false, "postgres://lectern:hunter2@127.0.0.1:1/lectern", "cannot connect to the PostgreSQL server"),
    ];
    for (by_flag, url, expected) in refused {
        let mut command = up_command(&[
            "--demo",
            "--listen",
            "127.0.0.1:0",
            "--http-listen",
            "127.0.0.1:0",
            "--data-dir",
            &data_dir.display().to_string(),
        ]);
        if by_flag {
            command.args(["--database-url", url]);
        } else {
            command.env("LECTERN_DATABASE_URL", url);
        }
        let output = command.output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{url}: {stderr}");
        assert!(stderr.starts_with("lectern: "), "{url}: {stderr}");
        assert!(stderr.contains(expected), "{url}: {stderr}");
        assert!(!stderr.contains("hunter2"), "{url}: the password was shown: {stderr}");
        assert!(output.stdout.is_empty(), "{url}: {}", String::from_utf8_lossy(&output.stdout));
        assert!(!data_dir.exists(), "{url}: the data directory was created");
    }
}

/// A user who may not create databases is told what to ask the database
/// administrator for; once the administrator has run exactly that, Lectern
/// starts as that user. PostgreSQL only: SQLite has no users.
#[test]
#[cfg_attr(not(postgres_tests), ignore = "PostgreSQL only: set LECTERN_TEST_DATABASE_URL")]
fn a_user_who_may_not_create_databases_is_told_what_to_ask_for() {
    let server = postgres_server();
    let role = Role::create(&server);
    let databases = ServerDatabases::new(&server, "rights");
    let url = with_user(&with_database(&server, &databases.prefix), &role.name);
    let folder = tempfile::tempdir().unwrap();
    let data_dir = folder.path().join("data").display().to_string();
    let args = [
        "--listen",
        "127.0.0.1:0",
        "--http-listen",
        "127.0.0.1:0",
        "--sip2-listen",
        "off",
        "--data-dir",
        &data_dir,
        "--database-url",
        &url,
    ];

    let output = up_command(&args).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(stderr.contains(&format!("the PostgreSQL user {} on", role.name)), "{stderr}");
    assert!(stderr.contains("may not create databases"), "{stderr}");
    assert!(stderr.contains(&format!("ALTER ROLE \"{}\" CREATEDB;", role.name)), "{stderr}");
    assert_eq!(databases.existing(), Vec::<String>::new(), "nothing was created");
    assert!(!Path::new(&data_dir).exists());

    // The administrator runs the statements the message gives.
    let statements: Vec<&str> =
        stderr.lines().map(str::trim).filter(|line| line.starts_with("CREATE DATABASE")).collect();
    assert_eq!(statements.len(), 4, "{stderr}");
    let mut admin = PgConnection::establish(&server).unwrap();
    for statement in statements {
        diesel::sql_query(statement.trim_end_matches(';')).execute(&mut admin).unwrap();
    }
    let up = Up::start(&args);
    assert!(!up.banner.contains("created just now"), "{}", up.banner);
    assert!(!up.banner.contains("SIP2"), "--sip2-listen off: {}", up.banner);
    assert!(up.field("first admin:").starts_with("admin / "), "{}", up.banner);
    let (after, _) = up.stop();
    assert!(after.contains("Lectern stopped."), "{after}");
}

/// Two starts creating the same databases at the same moment (two
/// replicas, an impatient double click) both find all four there.
#[test]
#[cfg_attr(not(postgres_tests), ignore = "PostgreSQL only: set LECTERN_TEST_DATABASE_URL")]
fn two_starts_creating_the_same_databases_both_go_on() {
    let server = postgres_server();
    let databases = ServerDatabases::new(&server, "race");
    let url = ServerUrl::parse(&with_database(&server, &databases.prefix)).unwrap();
    let starts: Vec<_> = (0..2)
        .map(|_| {
            let url = url.clone();
            std::thread::spawn(move || url.ensure_databases())
        })
        .collect();
    let mut created: Vec<String> =
        starts.into_iter().flat_map(|start| start.join().unwrap().expect("both starts go on")).collect();
    created.sort();
    let mut names = databases.names();
    names.sort();
    assert_eq!(created, names, "each database was created once, by one of them");
    assert_eq!(databases.existing().len(), 4);
}

/// A login role without the right to create databases, dropped (with
/// anything it owns) at the end of the test.
struct Role {
    server: String,
    name: String,
}

impl Role {
    fn create(server: &str) -> Self {
        let name = format!("lectern_t_role_{}", uuid::Uuid::now_v7().simple());
        let mut admin = PgConnection::establish(server).unwrap();
        diesel::sql_query(format!("CREATE ROLE {name} LOGIN NOCREATEDB")).execute(&mut admin).unwrap();
        Self { server: server.to_owned(), name }
    }
}

impl Drop for Role {
    fn drop(&mut self) {
        let dropped =
            PgConnection::establish(&self.server).map_err(|error| error.to_string()).and_then(|mut admin| {
                diesel::sql_query(format!("DROP ROLE IF EXISTS {}", self.name))
                    .execute(&mut admin)
                    .map_err(|error| error.to_string())
            });
        if let Err(error) = dropped {
            eprintln!("could not drop test role {}: {error}", self.name);
        }
    }
}
