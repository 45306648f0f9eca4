//! `lectern bench checkout`, run small: both sides of every round really
//! ran every operation, the table shows them, and the bench's databases are
//! gone afterwards. The same for `lectern bench reminders`, `lectern bench
//! sip2` and `lectern bench portal`.

use lectern::bench::checkout::{self, CheckoutBenchArgs};
use lectern::bench::portal::{self, PortalBenchArgs};
use lectern::bench::reminders::{self, RemindersBenchArgs};
use lectern::bench::sip2::{self, Sip2BenchArgs};
use lectern_common::testing::postgres_server_url;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checkout_bench_measures_the_suite_and_the_raw_ceiling() {
    let folder = tempfile::tempdir().expect("temp dir");
    let database_url = postgres_server_url().unwrap_or_else(|| folder.path().display().to_string());
    let args = CheckoutBenchArgs { database_url: database_url.clone(), stations: vec![1, 3], cycles: 4 };

    let databases_before = bench_databases(&database_url);
    let report = checkout::run(&args).await.expect("the bench runs");

    assert_eq!(report.rounds.iter().map(|round| round.stations).collect::<Vec<_>>(), [1, 3]);
    for round in &report.rounds {
        let operations = 2 * round.stations * args.cycles;
        assert_eq!(round.suite.latencies.count(), operations, "suite ops at {} stations", round.stations);
        assert_eq!(round.raw.latencies.count(), operations, "raw ops at {} stations", round.stations);
        assert_eq!(round.json.latencies.count(), operations, "JSON ops at {} stations", round.stations);
        assert!(round.json.ops_per_second() > 0.0 && round.json_ratio() > 0.0);
        assert_eq!(round.page.latencies.count(), operations, "page ops at {} stations", round.stations);
        assert!(round.page.ops_per_second() > 0.0 && round.page_ratio() > 0.0);
        assert!(round.suite.ops_per_second() > 0.0 && round.raw.ops_per_second() > 0.0);
        assert!(round.suite.latencies.percentile_ms(99.0) >= round.suite.latencies.percentile_ms(50.0));
        assert!(round.ratio() > 0.0);
    }
    let table = report.to_string();
    assert!(table.contains("suite ops/s") && table.contains("suite/raw"), "{table}");
    assert_eq!(table.lines().count(), 4, "a title, a header and one line per round:\n{table}");

    if postgres_server_url().is_some() {
        assert_eq!(bench_databases(&database_url), databases_before, "the bench drops its databases");
    } else {
        let left: Vec<_> = std::fs::read_dir(folder.path()).expect("folder readable").collect();
        assert!(left.is_empty(), "the bench removes its folder: {left:?}");
    }

    let refused = checkout::run(&CheckoutBenchArgs { stations: vec![0], ..args }).await;
    assert!(refused.expect_err("no stations").to_string().contains("--stations"));
}

/// `lectern bench reminders` on a small district: every overdue and
/// due-soon loan got its reminder (and the returned ones none), every
/// delivery was handed off, the receiver got every webhook request, and
/// the bench's databases are gone afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reminders_bench_hands_a_small_districts_morning_to_the_channels() {
    let folder = tempfile::tempdir().expect("temp dir");
    let database_url = postgres_server_url().unwrap_or_else(|| folder.path().display().to_string());
    let args = RemindersBenchArgs {
        database_url: database_url.clone(),
        loans: 2_000,
        overdue_percent: 5,
        readers: 400,
        schools: 2,
        phone_percent: 25,
        sender_interval_ms: 200,
    };

    let report = reminders::run(&args).await.expect("the bench runs");

    assert_eq!(report.overdue, 100, "5% of 2,000 loans");
    assert!(report.due_soon > 0 && report.expected_skipped > 0, "{report}");
    // The defaults: a reminder for each overdue loan and each due within
    // two days, none for the loans circulation says came back.
    assert_eq!(report.reminders + report.skipped_returned, report.overdue + report.due_soon, "{report}");
    assert_eq!(report.reminders, report.expected_reminders, "{report}");
    assert_eq!(report.skipped_returned, report.expected_skipped, "{report}");
    assert_eq!(report.deliveries_queued, report.expected_deliveries, "{report}");
    assert!(report.not_sent.is_empty(), "every delivery sent: {report}");
    let sent =
        |channel: &str| report.channels.iter().find(|figures| figures.channel == channel).map(|f| f.sent);
    assert_eq!(sent("in_app"), Some(report.reminders), "one inbox notice per reminder");
    assert!(report.expected_webhook > 0, "{report}");
    assert_eq!(sent("webhook"), Some(report.expected_webhook), "{report}");
    assert_eq!(report.webhook_requests, report.expected_webhook, "the receiver got each webhook delivery");
    let (first, last) =
        (report.first_webhook.expect("a first request"), report.last_webhook.expect("a last"));
    assert!(first <= last && report.pass > std::time::Duration::ZERO);
    let table = report.to_string();
    assert!(
        table.contains("in_app") && table.contains("webhook") && table.contains("SendDueReminders"),
        "{table}"
    );

    assert!(!report.scratch.is_empty());
    if postgres_server_url().is_some() {
        for name in &report.scratch {
            assert_eq!(database_count(&database_url, name), 0, "the bench drops {name}");
        }
    } else {
        assert!(
            report.scratch.iter().all(|made| !std::path::Path::new(made).exists()),
            "{:?}",
            report.scratch
        );
        let left: Vec<_> = std::fs::read_dir(folder.path()).expect("folder readable").collect();
        assert!(left.is_empty(), "the bench removes its folder: {left:?}");
    }

    let refused = reminders::run(&RemindersBenchArgs { loans: 0, ..args }).await;
    assert!(refused.expect_err("no loans").to_string().contains("--loans"));
}

/// `lectern bench sip2`, small: machines and desks ran every operation,
/// the race made one loan, the table shows it all, and the bench's
/// databases are gone afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sip2_bench_measures_machines_beside_desks_and_races_them_for_one_copy() {
    let folder = tempfile::tempdir().expect("temp dir");
    let database_url = postgres_server_url().unwrap_or_else(|| folder.path().display().to_string());
    let args = Sip2BenchArgs { database_url: database_url.clone(), machines: vec![1, 2], cycles: 3, race: 3 };
    let before = databases_like(&database_url, "lectern\\_sip2\\_%");

    let report = sip2::run(&args).await.expect("the bench runs");

    assert_eq!(report.rounds.iter().map(|round| round.machines).collect::<Vec<_>>(), [1, 2]);
    for round in &report.rounds {
        let operations = 2 * round.machines * args.cycles;
        assert_eq!(round.sip2.latencies.count(), operations, "SIP2 ops at {} machines", round.machines);
        assert_eq!(round.grpc.latencies.count(), operations, "gRPC ops at {} desks", round.machines);
        assert!(round.sip2.ops_per_second() > 0.0 && round.grpc.ops_per_second() > 0.0);
    }
    let race = report.race.clone().expect("a race");
    assert_eq!((race.machines, race.lent_at_machines + race.lent_at_desks), (3, 1));
    let table = report.to_string();
    assert!(table.contains("sip2 ops/s") && table.contains("race for one copy"), "{table}");
    assert_eq!(table.lines().count(), 5, "a title, a header, one line per round, the race:\n{table}");

    if postgres_server_url().is_some() {
        assert_eq!(
            databases_like(&database_url, "lectern\\_sip2\\_%"),
            before,
            "the bench drops its databases"
        );
    } else {
        let left: Vec<_> = std::fs::read_dir(folder.path()).expect("folder readable").collect();
        assert!(left.is_empty(), "the bench removes its folder: {left:?}");
    }
    let refused = sip2::run(&Sip2BenchArgs { machines: vec![0], ..args }).await;
    assert!(refused.expect_err("no machines").to_string().contains("--machines"));
}

/// `lectern bench portal`, small: every phone signed in once and made
/// every call of every round, the table shows each call and every portal
/// page with its weight, and the bench's databases are gone afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn portal_bench_measures_phones_and_weighs_the_pages() {
    let folder = tempfile::tempdir().expect("temp dir");
    let database_url = postgres_server_url().unwrap_or_else(|| folder.path().display().to_string());
    let args =
        PortalBenchArgs { database_url: database_url.clone(), phones: 3, rounds: 2, sign_ins_at_once: 2 };
    let before = databases_like(&database_url, "lectern\\_portal\\_%");

    let report = portal::run(&args).await.expect("the bench runs");

    assert_eq!(report.sign_in.latencies.count(), 3, "one sign-in per phone");
    let names: Vec<&str> = report.calls.iter().map(|(name, _)| *name).collect();
    assert_eq!(names, ["search", "title", "loans", "holds", "notices", "report"]);
    for (name, latencies) in &report.calls {
        assert_eq!(latencies.count(), 3 * 2, "{name}: every phone, every round");
    }
    assert_eq!(report.all.latencies.count(), 6 * 3 * 2);
    assert!(report.all.ops_per_second() > 0.0);
    assert!(report.all.latencies.percentile_ms(99.0) >= report.all.latencies.percentile_ms(50.0));
    let paths: Vec<&str> = report.pages.iter().map(|page| page.path.as_str()).collect();
    for path in ["/portal/signin", "/portal", "/portal/loans", "/portal/report", "/portal/family"] {
        assert!(paths.contains(&path), "{path} weighed: {paths:?}");
    }
    for page in &report.pages {
        assert!(page.html > 500 && page.assets > 0, "{page:?}: HTML and its stylesheet");
    }
    let table = report.to_string();
    assert!(table.contains("p95 ms") && table.contains("/portal/report"), "{table}");

    if postgres_server_url().is_some() {
        assert_eq!(
            databases_like(&database_url, "lectern\\_portal\\_%"),
            before,
            "the bench drops its databases"
        );
    } else {
        let left: Vec<_> = std::fs::read_dir(folder.path()).expect("folder readable").collect();
        assert!(left.is_empty(), "the bench removes its folder: {left:?}");
    }
    let refused = portal::run(&PortalBenchArgs { phones: 0, ..args }).await;
    assert!(refused.expect_err("no phones").to_string().contains("--phones"));
}

/// How many databases whose names are LIKE `pattern` the PostgreSQL server
/// has (0 on SQLite).
fn databases_like(database_url: &str, pattern: &str) -> i64 {
    use diesel::prelude::*;
    if postgres_server_url().is_none() {
        return 0;
    }
    let mut server = diesel::PgConnection::establish(database_url).expect("server reachable");
    diesel::sql_query("SELECT count(*) AS count FROM pg_database WHERE datname LIKE $1")
        .bind::<diesel::sql_types::Text, _>(pattern)
        .get_result::<Count>(&mut server)
        .expect("databases listed")
        .count
}

/// How many databases named `name` the PostgreSQL server has.
fn database_count(database_url: &str, name: &str) -> i64 {
    use diesel::prelude::*;
    let mut server = diesel::PgConnection::establish(database_url).expect("server reachable");
    diesel::sql_query("SELECT count(*) AS count FROM pg_database WHERE datname = $1")
        .bind::<diesel::sql_types::Text, _>(name)
        .get_result::<Count>(&mut server)
        .expect("databases listed")
        .count
}

/// How many bench databases the PostgreSQL server has (0 on SQLite).
fn bench_databases(database_url: &str) -> i64 {
    use diesel::prelude::*;
    if postgres_server_url().is_none() {
        return 0;
    }
    let mut server = diesel::PgConnection::establish(database_url).expect("server reachable");
    diesel::sql_query("SELECT count(*) AS count FROM pg_database WHERE datname LIKE 'lectern\\_bench\\_%'")
        .get_result::<Count>(&mut server)
        .expect("databases listed")
        .count
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    count: i64,
}
