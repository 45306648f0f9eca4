//! `lectern up` on one PostgreSQL server: the server URL an operator gives
//! (`--database-url`), the four service databases named after it, created
//! when missing, and the URL as it may be shown (password hidden).
//!
//! The URL's database name is the prefix of the services' databases:
//! `postgres://lectern@db.example:5432/lectern` means `lectern_reader`,
//! `lectern_catalog`, `lectern_circulation` and `lectern_notification` on
//! that server (no name means `lectern`). Each service keeps its own
//! database, as on Kubernetes, so a district can move from `lectern up` to
//! separate services without moving data. The URL's query parameters
//! (`sslmode=require`, …) go with every database.

use std::fmt::Write as _;
use std::time::Duration;

use anyhow::{Context as _, bail};
use diesel::connection::SimpleConnection as _;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Text};

use crate::suite::{Databases, SERVICES};

/// The prefix when the URL names no database.
pub const DEFAULT_PREFIX: &str = "lectern";

/// How long a check or creation waits for the server to answer, unless the
/// URL says otherwise (`connect_timeout`): a mistyped host is reported
/// within seconds rather than after the system's TCP timeout.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// PostgreSQL's longest name (63 bytes) less `_notification`.
const MAX_PREFIX_LEN: usize = 63 - "_notification".len();

/// A PostgreSQL server and the prefix of the services' databases on it.
#[derive(Clone, PartialEq, Eq)]
pub struct ServerUrl {
    /// `postgres` or `postgresql`, as given.
    scheme: String,
    /// `user:password@host:port` (or several hosts), as given; may be empty
    /// (the local socket).
    authority: String,
    /// The databases' common prefix.
    prefix: String,
    /// The query parameters, as given, without the `?`.
    query: Option<String>,
}

/// The URL is never printed in full: it may carry a password.
impl std::fmt::Debug for ServerUrl {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_tuple("ServerUrl").field(&self.redacted()).field(&self.prefix).finish()
    }
}

impl ServerUrl {
    /// Reads a `postgres://` URL. Anything else is refused with a sentence
    /// that says what to give instead; so is a URL libpq would read
    /// differently from what the operator meant (`dbname=` in the query).
    pub fn parse(url: &str) -> anyhow::Result<Self> {
        let url = url.trim();
        let Some((scheme, rest)) = url.split_once("://").filter(|(scheme, _)| is_postgres_scheme(scheme))
        else {
            bail!(
                "--database-url (LECTERN_DATABASE_URL) takes a PostgreSQL server, such as \
                 postgres://lectern@db.example:5432/lectern; to keep the data in SQLite files, leave \
                 it out and choose the folder with --data-dir"
            );
        };
        if url.chars().any(|c| c.is_whitespace() || c.is_control()) || url.contains('#') {
            bail!("the database URL is malformed: it has spaces or a '#' (write a '#' in a password as %23)");
        }
        let (rest, query) = match rest.split_once('?') {
            Some((rest, query)) => (rest, Some(query)),
            None => (rest, None),
        };
        let (authority, database) = rest.split_once('/').unwrap_or((rest, ""));
        check_authority(authority)?;
        let prefix = if database.is_empty() { DEFAULT_PREFIX } else { database };
        check_prefix(prefix)?;
        if let Some(query) = query {
            check_query(query)?;
        }
        Ok(Self {
            scheme: scheme.to_owned(),
            authority: authority.to_owned(),
            prefix: prefix.to_owned(),
            query: query.filter(|query| !query.is_empty()).map(str::to_owned),
        })
    }

    /// The prefix of the services' databases.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The database of `service` (`reader`, …): `<prefix>_<service>`.
    pub fn database_name(&self, service: &str) -> String {
        format!("{}_{service}", self.prefix)
    }

    /// The URL of the database `name` on this server, with the operator's
    /// query parameters.
    pub fn url_of(&self, name: &str) -> String {
        let mut url = format!("{}://{}/{name}", self.scheme, self.authority);
        if let Some(query) = &self.query {
            url.push('?');
            url.push_str(query);
        }
        url
    }

    /// Every service's database URL.
    pub fn databases(&self) -> Databases {
        let url = |service: &str| self.url_of(&self.database_name(service));
        Databases {
            reader: url("reader"),
            catalog: url("catalog"),
            circulation: url("circulation"),
            notification: url("notification"),
        }
    }

    /// The server as it may be shown: no database, any password as `***`.
    pub fn redacted(&self) -> String {
        let authority = match self.authority.rsplit_once('@') {
            Some((user_info, hosts)) => match user_info.split_once(':') {
                Some((user, _password)) => format!("{user}:***@{hosts}"),
                None => self.authority.clone(),
            },
            None => self.authority.clone(),
        };
        let mut shown = format!("{}://{authority}", self.scheme);
        if let Some(query) = &self.query {
            let parameters: Vec<String> = query
                .split('&')
                .map(|parameter| match parameter.split_once('=') {
                    Some(("password", _)) => "password=***".to_owned(),
                    _ => parameter.to_owned(),
                })
                .collect();
            shown.push('?');
            shown.push_str(&parameters.join("&"));
        }
        shown
    }

    /// Makes sure every service's database exists, creating the missing
    /// ones; returns the names it created. Blocking.
    ///
    /// Databases that already exist need no more than the right to connect
    /// to them, so a district whose administrator made them by hand can run
    /// Lectern as a user who may not create databases. Creating needs a
    /// connection to a database that exists: the one the URL names, else
    /// `postgres`, else `template1`. A user who may not create databases
    /// is told which to ask for, and none is created.
    pub fn ensure_databases(&self) -> anyhow::Result<Vec<String>> {
        let names: Vec<String> = SERVICES.iter().map(|service| self.database_name(service)).collect();
        let Some(unopened) = names.iter().find_map(|name| {
            PgConnection::establish(&self.checking_url(name)).err().map(|error| (name, error))
        }) else {
            return Ok(Vec::new());
        };
        let mut admin = self.admin_connection()?;
        let existing = database_names(&mut admin).context("listing the server's databases")?;
        let missing: Vec<String> = names.iter().filter(|name| !existing.contains(name)).cloned().collect();
        if missing.is_empty() {
            let (name, error) = unopened;
            bail!("cannot open the database {name} on {}: {}", self.redacted(), one_line(&error.to_string()));
        }
        let role = role(&mut admin).context("reading the user's rights")?;
        if !role.may_create {
            bail!("{}", self.cannot_create(&role.name, &missing, "may not create databases"));
        }
        let mut created = Vec::new();
        for name in &missing {
            // Template 0 and UTF-8: readers' names and titles are Chinese
            // and English, whatever the server's default encoding.
            match admin.batch_execute(&format!("CREATE DATABASE {name} ENCODING 'UTF8' TEMPLATE template0")) {
                Ok(()) => created.push(name.clone()),
                // Another `lectern up` (or an administrator) made it meanwhile.
                Err(_) if database_names(&mut admin).is_ok_and(|names| names.contains(name)) => {}
                Err(error) => {
                    let problem = format!("could not create {name}: {}", one_line(&error.to_string()));
                    bail!("{}", self.cannot_create(&role.name, &missing, &problem));
                }
            }
        }
        Ok(created)
    }

    /// What to do when the databases cannot be created here.
    fn cannot_create(&self, user: &str, missing: &[String], problem: &str) -> String {
        let mut message = format!(
            "the PostgreSQL user {user} on {} {problem}. Ask the database administrator to create \
             the missing databases, then start again:",
            self.redacted()
        );
        for name in missing {
            let _ = write!(
                message,
                "\n    CREATE DATABASE {name} OWNER \"{user}\" ENCODING 'UTF8' TEMPLATE template0;"
            );
        }
        let _ = write!(message, "\nor to let {user} create them:\n    ALTER ROLE \"{user}\" CREATEDB;");
        message
    }

    /// A connection for creating databases.
    fn admin_connection(&self) -> anyhow::Result<PgConnection> {
        let mut candidates = vec![self.prefix.as_str(), "postgres", "template1"];
        candidates.dedup();
        let mut first_error = None;
        for database in candidates {
            match PgConnection::establish(&self.checking_url(database)) {
                Ok(connection) => return Ok(connection),
                Err(error) => {
                    first_error.get_or_insert(error);
                }
            }
        }
        let error = first_error.map(|error| one_line(&error.to_string())).unwrap_or_default();
        bail!("cannot connect to the PostgreSQL server {}: {error}", self.redacted())
    }

    /// The URL of `database` for a check: with a short connect timeout
    /// unless the operator chose one.
    fn checking_url(&self, database: &str) -> String {
        let mut url = self.url_of(database);
        let has_timeout = self
            .query
            .as_deref()
            .is_some_and(|query| query.split('&').any(|parameter| parameter.starts_with("connect_timeout=")));
        if !has_timeout {
            url.push(if self.query.is_some() { '&' } else { '?' });
            let _ = write!(url, "connect_timeout={}", CONNECT_TIMEOUT.as_secs());
        }
        url
    }
}

fn is_postgres_scheme(scheme: &str) -> bool {
    scheme == "postgres" || scheme == "postgresql"
}

/// `[user[:password]@]host[:port][,host[:port]…]`, or nothing (the local
/// socket).
fn check_authority(authority: &str) -> anyhow::Result<()> {
    let hosts = authority.rsplit_once('@').map_or(authority, |(_, hosts)| hosts);
    for host in hosts.split(',') {
        let port = if let Some(bracketed) = host.strip_prefix('[') {
            let Some((_address, after)) = bracketed.split_once(']') else {
                bail!("the database URL is malformed: an IPv6 address lacks its closing ']'");
            };
            after.strip_prefix(':')
        } else {
            host.split_once(':').map(|(_, port)| port)
        };
        if let Some(port) = port
            && !port.parse::<u16>().is_ok_and(|port| port > 0)
        {
            // The text is not repeated: a password with an unescaped '/'
            // ends up here.
            bail!("the database URL is malformed: the port is not a number (such as 5432)");
        }
    }
    Ok(())
}

/// The prefix goes into `CREATE DATABASE` unquoted: a plain lower-case name.
fn check_prefix(prefix: &str) -> anyhow::Result<()> {
    let plain = prefix.starts_with(|c: char| c.is_ascii_lowercase())
        && prefix.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !plain || prefix.len() > MAX_PREFIX_LEN {
        bail!(
            "the database name at the end of the URL starts each service's database name \
             (/lectern gives lectern_reader, …): use lower-case letters, digits and '_', \
             starting with a letter, at most {MAX_PREFIX_LEN} characters"
        );
    }
    Ok(())
}

fn check_query(query: &str) -> anyhow::Result<()> {
    for parameter in query.split('&').filter(|parameter| !parameter.is_empty()) {
        let Some((key, _value)) = parameter.split_once('=').filter(|(key, _)| !key.is_empty()) else {
            bail!("the database URL is malformed: its parameters are not all key=value");
        };
        if key == "dbname" {
            bail!(
                "leave dbname out of the database URL's parameters: lectern up names each \
                 service's database after the URL's database name"
            );
        }
    }
    Ok(())
}

/// A libpq message on one line, for the first address only (a host name
/// with several addresses repeats it for each).
fn one_line(message: &str) -> String {
    let mut lines = message.lines().map(str::trim).filter(|line| !line.is_empty());
    let mut text: Vec<&str> = lines.next().into_iter().collect();
    text.extend(lines.take_while(|line| !line.starts_with("connection to server")));
    text.join(" ")
}

#[derive(QueryableByName)]
struct DatabaseName {
    #[diesel(sql_type = Text)]
    datname: String,
}

fn database_names(connection: &mut PgConnection) -> QueryResult<Vec<String>> {
    let rows: Vec<DatabaseName> = diesel::sql_query("SELECT datname FROM pg_database").load(connection)?;
    Ok(rows.into_iter().map(|row| row.datname).collect())
}

#[derive(QueryableByName)]
struct Role {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Bool)]
    may_create: bool,
}

fn role(connection: &mut PgConnection) -> QueryResult<Role> {
    diesel::sql_query(
        "SELECT current_user::text AS name, (rolcreatedb OR rolsuper) AS may_create \
         FROM pg_roles WHERE rolname = current_user",
    )
    .get_result(connection)
}

#[cfg(test)]
mod tests {
    use super::ServerUrl;

    #[test]
    fn the_url_names_the_prefix_of_each_services_database() {
        let server = ServerUrl::parse("postgres://lectern@db.example:5432/lectern").unwrap();
        let databases = server.databases();
        assert_eq!(databases.reader, "postgres://lectern@db.example:5432/lectern_reader");
        assert_eq!(databases.catalog, "postgres://lectern@db.example:5432/lectern_catalog");
        assert_eq!(databases.circulation, "postgres://lectern@db.example:5432/lectern_circulation");
        assert_eq!(databases.notification, "postgres://lectern@db.example:5432/lectern_notification");

        let unnamed = ServerUrl::parse("postgresql://db.example").unwrap();
        assert_eq!(unnamed.prefix(), "lectern");
        assert_eq!(unnamed.databases().reader, "postgresql://db.example/lectern_reader");
        let slash = ServerUrl::parse("postgres://db.example/").unwrap();
        assert_eq!(slash.prefix(), "lectern");
    }

    #[test]
    fn query_parameters_go_with_every_database() {
        let server =
            ServerUrl::parse("postgres://u:p@db:5432/school1?sslmode=require&application_name=lectern")
                .unwrap();
        for url in [server.databases().reader, server.databases().notification] {
            assert!(url.ends_with("?sslmode=require&application_name=lectern"), "{url}");
        }
        assert_eq!(
            server.databases().catalog,
            "postgres://u:p@db:5432/school1_catalog?sslmode=require&application_name=lectern"
        );
        // A local socket: no host, the socket folder as a parameter.
        let socket = ServerUrl::parse("postgres:///lectern?host=/var/run/postgresql").unwrap();
        assert_eq!(socket.databases().reader, "postgres:///lectern_reader?host=/var/run/postgresql");
    }

    #[test]
    fn checks_get_a_short_connect_timeout_unless_one_was_chosen() {
        let plain = ServerUrl::parse("postgres://db/lectern").unwrap();
        assert_eq!(plain.checking_url("postgres"), "postgres://db/postgres?connect_timeout=5");
        let tls = ServerUrl::parse("postgres://db/lectern?sslmode=require").unwrap();
        assert_eq!(tls.checking_url("postgres"), "postgres://db/postgres?sslmode=require&connect_timeout=5");
        let chosen = ServerUrl::parse("postgres://db/lectern?connect_timeout=30").unwrap();
        assert_eq!(chosen.checking_url("postgres"), "postgres://db/postgres?connect_timeout=30");
        // The services themselves get the URL as given.
        assert_eq!(plain.databases().reader, "postgres://db/lectern_reader");
    }

    #[test]
    fn a_password_is_never_shown() {
        let server = ServerUrl::parse("postgres://lectern:s3cr%40t@db.example:5432/lectern").unwrap();
        assert_eq!(server.redacted(), "postgres://lectern:***@db.example:5432");
        let in_query =
            ServerUrl::parse("postgres://db.example/lectern?user=lectern&password=s3cret&sslmode=require")
                .unwrap();
        assert_eq!(in_query.redacted(), "postgres://db.example?user=lectern&password=***&sslmode=require");
        let no_password = ServerUrl::parse("postgres://lectern@db.example/lectern").unwrap();
        assert_eq!(no_password.redacted(), "postgres://lectern@db.example");
        for server in [server, in_query] {
            assert!(!format!("{server:?}").contains("s3cr"), "{server:?}");
        }
    }

    #[test]
    fn other_urls_are_refused_with_what_to_give_instead() {
        for url in ["./lectern-data", "sqlite://lectern.db", "mysql://db/lectern", "postgres:/db/lectern", ""]
        {
            let error = ServerUrl::parse(url).unwrap_err().to_string();
            assert!(error.contains("takes a PostgreSQL server"), "{url}: {error}");
            assert!(error.contains("--data-dir"), "{url}: {error}");
        }
    }

    #[test]
    fn malformed_urls_are_refused_before_anything_is_tried() {
        let refused = [
            ("postgres://db:54x2/lectern", "port is not a number"),
            ("postgres://db:0/lectern", "port is not a number"),
            ("postgres://[::1/lectern", "closing ']'"),
            ("postgres://db/Lectern", "lower-case letters"),
            ("postgres://db/lectern/reader", "lower-case letters"),
            ("postgres://db/lectern-test", "lower-case letters"),
            ("postgres://db/1lectern", "lower-case letters"),
            ("postgres://db/lectern?dbname=other", "leave dbname out"),
            ("postgres://db/lectern?sslmode", "key=value"),
            ("postgres://db/lectern now", "spaces"),
            ("postgres://u:a#b@db/lectern", "%23"),
        ];
        for (url, expected) in refused {
            let error = ServerUrl::parse(url).unwrap_err().to_string();
            assert!(error.contains(expected), "{url}: {error}");
        }
        let long = format!("postgres://db/{}", "a".repeat(51));
        assert!(ServerUrl::parse(&long).is_err());
        assert!(ServerUrl::parse(&format!("postgres://db/{}", "a".repeat(50))).is_ok());
        assert!(ServerUrl::parse("postgres://[::1]:5432,db2:5433/lectern").is_ok());
    }

    #[test]
    fn a_server_error_is_one_line_for_the_first_address() {
        let refused = "connection to server at \"localhost\" (::1), port 5433 failed: Connection refused\n\
                       \tIs the server running on that host and accepting TCP/IP connections?\n\
                       connection to server at \"localhost\" (127.0.0.1), port 5433 failed: Connection refused\n\
                       \tIs the server running on that host and accepting TCP/IP connections?\n";
        assert_eq!(
            super::one_line(refused),
            "connection to server at \"localhost\" (::1), port 5433 failed: Connection refused \
             Is the server running on that host and accepting TCP/IP connections?"
        );
        assert_eq!(
            super::one_line("FATAL:  database \"x\" does not exist\n"),
            "FATAL:  database \"x\" does not exist"
        );
    }

    #[test]
    fn a_refusal_never_repeats_a_password() {
        // Unescaped '/', ':' or '#' in a password move it into other parts.
        for url in [
            "postgres://u:hunter2/xyz@db/lectern",
            "postgres://u:hunter2@db:hunter2/lectern",
            "postgres://db/lectern?password:hunter2",
            "postgres://u:hunter2#@db/lectern",
        ] {
            let error = ServerUrl::parse(url).unwrap_err().to_string();
            assert!(!error.contains("hunter2"), "{url}: {error}");
        }
    }
}
