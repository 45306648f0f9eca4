//! Benchmarks that print figures: search and MARC import on a catalog
//! database (a SQLite file or PostgreSQL URL), and check-out/check-in through
//! the whole suite.
//!
//! - `lectern bench search`: search latency per query shape, optionally
//!   filling the database first with a synthetic district catalog. Each
//!   query runs `lectern_catalog::search::run`, the function behind the
//!   `SearchTitles` call, on one connection; the figures are what a search
//!   costs the catalog service before gRPC. Prints p50 and p95 per shape.
//! - `lectern bench import`: MARC import speed. Writes a synthetic file of
//!   MARC21 and CNMARC records and imports it the way `ImportMarc` does
//!   (same reading, batches and writes, below gRPC). Prints records/s.
//! - `lectern bench checkout`: desk stations lending and taking back copies
//!   through the whole suite, against the same writes made straight to
//!   circulation's database (see [`checkout`]). Prints ops/s, p50/p99 and
//!   the ratio of the two.
//! - `lectern bench reminders`: a district morning's reminders through the
//!   whole suite (see [`reminders`]): the planning pass, the hand-off to
//!   the inbox and the webhook, and how soon the first and last webhook
//!   request arrive.
//! - `lectern bench portal`: readers' phones on the JSON API, p50/p95/p99
//!   per call of the portal, and the weight of the portal's pages (see
//!   [`portal`]).
//!
//! Benchmark code lives here and synthetic data in the `lectern-synthetic`
//! crate, not in the services, so no service binary carries it: that crate
//! draws the titles and writes the MARC files (the catalog's import tests
//! use the same files), and [`district`] writes a synthetic catalog into a
//! catalog database.

pub mod checkout;
mod common;
pub mod district;
pub mod latency;
pub mod portal;
pub mod reminders;
mod scratch;
pub mod sip2;

use std::time::{Duration, Instant};

use anyhow::Context as _;
use lectern_catalog::marc::import::{Format, ImportOptions};
use lectern_catalog::marc::local::import_file;
use lectern_catalog::search::{self, SearchRequest};
use lectern_common::db::Db;
use lectern_proto::catalog::v1 as pb;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

/// `lectern bench …`
#[derive(Debug, Clone, clap::Subcommand)]
pub enum BenchCommand {
    /// Search latency per query shape (ISBN, Chinese, English, author).
    Search(SearchBenchArgs),
    /// MARC import speed (records/s) on an empty catalog database.
    Import(ImportBenchArgs),
    /// Check-out/check-in through the gateway by N desk stations, against
    /// the same writes straight to circulation's database.
    Checkout(checkout::CheckoutBenchArgs),
    /// A district morning's reminders: generated, re-checked and handed to
    /// the inbox and the webhook through the whole suite.
    Reminders(reminders::RemindersBenchArgs),
    /// SIP2 check-out/check-in by N self-check machines beside N desks over
    /// gRPC, then all of them racing for one copy.
    Sip2(sip2::Sip2BenchArgs),
    /// Readers' phones on the JSON API (sign-in, then rounds of the
    /// portal's calls) and the weight of the portal's pages.
    Portal(portal::PortalBenchArgs),
}

/// Arguments of `lectern bench import`.
#[derive(Debug, Clone, clap::Args)]
pub struct ImportBenchArgs {
    /// The catalog database: a SQLite file path or a postgres:// URL. Use an
    /// empty one: records already there are matched, not created.
    #[arg(long)]
    pub database_url: String,
    /// Records in the synthetic file (half MARC21, half CNMARC, one copy each).
    #[arg(long, default_value_t = 10_000)]
    pub records: u64,
}

/// Arguments of `lectern bench search`.
#[derive(Debug, Clone, clap::Args)]
pub struct SearchBenchArgs {
    /// The catalog database: a SQLite file path or a postgres:// URL.
    #[arg(long)]
    pub database_url: String,
    /// Fill the (empty) database with a synthetic catalog first.
    #[arg(long)]
    pub generate: bool,
    /// Titles to generate.
    #[arg(long, default_value_t = 500_000)]
    pub titles: u64,
    /// Copies to generate.
    #[arg(long, default_value_t = 1_000_000)]
    pub copies: u64,
    /// Schools holding the generated copies.
    #[arg(long, default_value_t = 40)]
    pub schools: u32,
    /// Queries timed per shape.
    #[arg(long, default_value_t = 300)]
    pub queries: usize,
    /// Hits per page.
    #[arg(long, default_value_t = 20)]
    pub page_size: i64,
}

/// Runs a bench command.
pub fn run(command: BenchCommand) -> anyhow::Result<()> {
    match command {
        BenchCommand::Search(args) => search_bench(&args),
        BenchCommand::Import(args) => import_bench(&args),
        BenchCommand::Checkout(args) => checkout_bench(&args),
        BenchCommand::Reminders(args) => reminders_bench(&args),
        BenchCommand::Sip2(args) => {
            let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
            print!("{}", runtime.block_on(sip2::run(&args))?);
            Ok(())
        }
        BenchCommand::Portal(args) => {
            let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
            print!("{}", runtime.block_on(portal::run(&args))?);
            Ok(())
        }
    }
}

fn reminders_bench(args: &reminders::RemindersBenchArgs) -> anyhow::Result<()> {
    // The services' own logs only when asked for (`LECTERN_LOG=warn`):
    // otherwise the table stands alone.
    let _telemetry = match std::env::var_os("LECTERN_LOG") {
        Some(_) => Some(lectern_core::telemetry::init("bench", "warn").map_err(anyhow::Error::msg)?),
        None => None,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let report = runtime.block_on(reminders::run(args))?;
    print!("{report}");
    Ok(())
}

fn checkout_bench(args: &checkout::CheckoutBenchArgs) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let report = runtime.block_on(checkout::run(args))?;
    print!("{report}");
    Ok(())
}

fn search_bench(args: &SearchBenchArgs) -> anyhow::Result<()> {
    let db = Db::connect(&args.database_url, 2).context("opening the catalog database")?;
    db.migrate(lectern_catalog::MIGRATIONS).context("migrating the catalog database")?;
    if args.generate {
        let plan =
            district::Plan { titles: args.titles, copies: args.copies, schools: args.schools, seed: 2026 };
        let bar = indicatif::ProgressBar::new(plan.titles);
        let summary = district::generate(&db, &plan, |written| bar.set_position(written))
            .context("generating the synthetic catalog")?;
        bar.finish_and_clear();
        println!(
            "generated {} titles, {} copies, {} index entries in {:.1} s ({:.0} titles/s)",
            summary.titles,
            summary.copies,
            summary.index_entries,
            summary.elapsed.as_secs_f64(),
            summary.titles as f64 / summary.elapsed.as_secs_f64().max(0.001)
        );
    }
    let mut connection = db.connection().context("opening a connection")?;
    let sample = district::sample_titles(&mut connection, 20_000).context("sampling titles")?;
    anyhow::ensure!(!sample.is_empty(), "the catalog is empty: run with --generate first");
    // The warm-up queries are other queries of the same shapes: a service
    // that has been running has the index's upper levels in memory, not
    // the very entries of the next query.
    let warm_up = query_shapes(&sample, args.queries, 11);
    let shapes = query_shapes(&sample, args.queries, 7);
    println!(
        "{:<18} {:>8} {:>9} {:>9} {:>9} {:>10} {:>14} {:>14}",
        "shape", "queries", "p50 ms", "p95 ms", "max ms", "avg hits", "index p50 ms", "index p95 ms"
    );
    for (_, queries) in &warm_up {
        for query in queries {
            search::run(&mut connection, query, 0, args.page_size)?;
        }
    }
    for (shape, queries) in shapes {
        let mut times = Vec::with_capacity(queries.len());
        let mut index_times = Vec::with_capacity(queries.len());
        let mut hits = 0;
        for query in &queries {
            let started = Instant::now();
            let page = search::run(&mut connection, query, 0, args.page_size)?;
            times.push(started.elapsed());
            hits += page.hits.len();
            // The index part alone: which titles, without their copies.
            let started = Instant::now();
            search::find(&mut connection, query, 0, args.page_size)?;
            index_times.push(started.elapsed());
        }
        times.sort();
        index_times.sort();
        println!(
            "{:<18} {:>8} {:>9.2} {:>9.2} {:>9.2} {:>10.1} {:>14.2} {:>14.2}",
            shape,
            times.len(),
            millis(percentile(&times, 50)),
            millis(percentile(&times, 95)),
            millis(times.last().copied().unwrap_or_default()),
            hits as f64 / times.len().max(1) as f64,
            millis(percentile(&index_times, 50)),
            millis(percentile(&index_times, 95)),
        );
    }
    Ok(())
}

fn import_bench(args: &ImportBenchArgs) -> anyhow::Result<()> {
    let db = Db::connect(&args.database_url, 1).context("opening the catalog database")?;
    db.migrate(lectern_catalog::MIGRATIONS).context("migrating the catalog database")?;
    let file = lectern_synthetic::marc::file(args.records).context("writing the synthetic MARC file")?;
    let options = ImportOptions {
        format: Format::Iso2709,
        school_id: Some(lectern_core::ids::new_id()),
        dry_run: false,
        pool_only: false,
        holdings: None,
        source_name: "synthetic.mrc".into(),
        request_id: None,
    };
    let mut connection = db.connection().context("connecting to the catalog database")?;
    let started = Instant::now();
    let (state, rejected) =
        import_file(&mut connection, &file, &options, chrono::Utc::now().naive_utc()).context("importing")?;
    let took = started.elapsed();
    let counts = state.counts;
    println!(
        "MARC import: {} records ({} KiB) in {:.2} s = {:.0} records/s",
        args.records,
        file.len() / 1024,
        took.as_secs_f64(),
        args.records as f64 / took.as_secs_f64()
    );
    println!(
        "  titles created {}, matched {}; copies created {}, already there {}; refused {}",
        counts.titles_created,
        counts.titles_matched,
        counts.copies_created,
        counts.copies_existing,
        rejected.len()
    );
    Ok(())
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

fn percentile(sorted: &[Duration], percent: usize) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (sorted.len() * percent).div_ceil(100).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// A search request as `SearchTitles` would make it from `query`.
fn request(query: &str) -> anyhow::Result<SearchRequest> {
    SearchRequest::from_request(&pb::SearchTitlesRequest { query: query.to_owned(), ..Default::default() })
        .map_err(|error| anyhow::anyhow!("bench query {query:?}: {error}"))
}

/// The benchmark queries, `count` per shape, drawn from the sampled titles
/// and the generator's word lists.
fn query_shapes(
    sample: &[district::SampleTitle],
    count: usize,
    seed: u64,
) -> Vec<(&'static str, Vec<SearchRequest>)> {
    let mut rng = StdRng::seed_from_u64(seed);
    let chinese_titles: Vec<Vec<char>> = sample
        .iter()
        .map(|(_, title, _, _)| title.chars().collect::<Vec<char>>())
        .filter(|chars| {
            chars.len() >= 4 && chars.iter().all(|c| lectern_catalog::search_terms::is_ideograph(*c))
        })
        .collect();
    let isbns: Vec<&str> = sample.iter().filter_map(|(_, _, isbn, _)| isbn.as_deref()).collect();
    let authors: Vec<&str> = sample.iter().filter_map(|(_, _, _, author)| author.as_deref()).collect();
    let two_char: Vec<&str> =
        lectern_synthetic::zh_words().into_iter().filter(|word| word.chars().count() == 2).collect();
    let english: Vec<&str> =
        lectern_synthetic::en_words().into_iter().filter(|word| word.len() >= 4).collect();
    let mut shapes: Vec<(&'static str, Vec<String>)> = vec![
        ("isbn", (0..count).filter_map(|_| isbns.choose(&mut rng).map(|isbn| (*isbn).to_owned())).collect()),
        (
            "chinese-2",
            (0..count).filter_map(|_| two_char.choose(&mut rng).map(|word| (*word).to_owned())).collect(),
        ),
        (
            "chinese-4",
            (0..count)
                .filter_map(|_| {
                    let chars = chinese_titles.choose(&mut rng)?;
                    let start = rand::Rng::gen_range(&mut rng, 0..=chars.len() - 4);
                    Some(chars[start..start + 4].iter().collect())
                })
                .collect(),
        ),
        (
            "english-word",
            (0..count).filter_map(|_| english.choose(&mut rng).map(|word| (*word).to_owned())).collect(),
        ),
        (
            "english-prefix",
            (0..count).filter_map(|_| english.choose(&mut rng).map(|word| word[..3].to_owned())).collect(),
        ),
        (
            "author",
            (0..count).filter_map(|_| authors.choose(&mut rng).map(|name| (*name).to_owned())).collect(),
        ),
    ];
    shapes
        .drain(..)
        .map(|(shape, queries)| (shape, queries.iter().filter_map(|query| request(query).ok()).collect()))
        .collect()
}
