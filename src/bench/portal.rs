//! `lectern bench portal`: readers on their phones, in one run of the whole
//! suite loaded with the demo district on fresh databases (a new folder of
//! SQLite files, or new PostgreSQL databases dropped afterwards).
//!
//! Every phone has a connection of its own to the HTTP edge and a demo
//! reader (phones beyond the demo's readers share them, as a parent's
//! phone and a child's would). All phones sign in at once with card and
//! PIN, once; then every phone makes its rounds of the portal's calls over
//! the JSON API at the same time ([`phone`]): search, a title, loans,
//! holds, notices and the reading report. The report gives p50/p95/p99 per
//! call and for all calls, and the calls per second of the whole crowd.
//!
//! Then one reader opens each screen of the portal's pages and the report
//! gives each page's weight, HTML and the assets it links ([`pages`]).

mod connection;
mod pages;
mod phone;

use std::time::Instant;

use anyhow::{Context as _, bail};
use futures::{StreamExt as _, TryStreamExt as _};
use lectern_common::db::{Backend, Db};

use self::pages::PageWeight;
use self::phone::{CALLS, Phone};
use super::common;
use super::latency::{Latencies, Throughput};
use super::scratch::Scratch;
use crate::demo::{DemoReader, DemoTitle, demo_pin};
use crate::suite::Suite;

/// Arguments of `lectern bench portal`.
#[derive(Debug, Clone, clap::Args)]
pub struct PortalBenchArgs {
    /// Where to make the bench's databases: a folder (a new subfolder of
    /// SQLite files, removed afterwards) or a PostgreSQL server URL such as
    /// postgres://postgres@127.0.0.1:5432/postgres (four new databases,
    /// dropped afterwards).
    #[arg(long)]
    pub database_url: String,
    /// Phones at once.
    #[arg(long, default_value_t = 200)]
    pub phones: usize,
    /// Rounds of the portal's calls per phone (after one untimed round).
    #[arg(long, default_value_t = 10)]
    pub rounds: usize,
    /// Phones signing in at the same moment. Each sign-in checks a PIN
    /// hash (Argon2, one core each, as many at once as the reader service
    /// has cores): all 200 at once queue longer than the gateway's call
    /// deadline (`LECTERN_CALL_TIMEOUT_MS`, 5 s) on a small machine.
    #[arg(long, default_value_t = 20)]
    pub sign_ins_at_once: usize,
}

/// What a run measured.
#[derive(Debug, Clone)]
pub struct Report {
    /// The backend the suite ran on.
    pub backend: Backend,
    /// Phones at once and rounds per phone.
    pub phones: usize,
    pub rounds: usize,
    /// Phones signing in at a time.
    pub sign_ins_at_once: usize,
    /// Each phone's one sign-in.
    pub sign_in: Throughput,
    /// Per call of a round (named as in [`phone::CALLS`]), all phones.
    pub calls: Vec<(&'static str, Latencies)>,
    /// Every call of the rounds, and the time they took together.
    pub all: Throughput,
    /// The portal's pages.
    pub pages: Vec<PageWeight>,
}

impl std::fmt::Display for Report {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            formatter,
            "Portal on {}: {} phones at once over the JSON API, each signed in once with card and PIN ({} at a \
             time), then {} rounds of search, title, loans, holds, notices, report",
            common::backend_name(self.backend),
            self.phones,
            self.sign_ins_at_once,
            self.rounds
        )?;
        writeln!(formatter, "{:<8} {:>7} {:>8} {:>8} {:>8}", "call", "calls", "p50 ms", "p95 ms", "p99 ms")?;
        let line = |formatter: &mut std::fmt::Formatter<'_>, name: &str, latencies: &Latencies| {
            writeln!(
                formatter,
                "{name:<8} {:>7} {:>8.2} {:>8.2} {:>8.2}",
                latencies.count(),
                latencies.percentile_ms(50.0),
                latencies.percentile_ms(95.0),
                latencies.percentile_ms(99.0)
            )
        };
        line(formatter, "sign-in", &self.sign_in.latencies)?;
        for (name, latencies) in &self.calls {
            line(formatter, name, latencies)?;
        }
        line(formatter, "all", &self.all.latencies)?;
        writeln!(formatter, "calls/s of all phones together: {:.0}", self.all.ops_per_second())?;
        let compressed = self.pages.iter().any(|page| page.compressed);
        writeln!(
            formatter,
            "Portal pages, first visit: HTML and the assets it links, bytes as sent ({})",
            if compressed { "gzip" } else { "uncompressed" }
        )?;
        writeln!(formatter, "{:<28} {:>7} {:>7} {:>7}", "page", "HTML", "assets", "total")?;
        for page in &self.pages {
            writeln!(formatter, "{:<28} {:>7} {:>7} {:>7}", page.path, page.html, page.assets, page.total())?;
        }
        Ok(())
    }
}

/// Runs the bench and returns its figures.
pub async fn run(args: &PortalBenchArgs) -> anyhow::Result<Report> {
    if args.phones == 0 {
        bail!("--phones must be above zero, e.g. 200");
    }
    if args.rounds == 0 || args.sign_ins_at_once == 0 {
        bail!("--rounds and --sign-ins-at-once must be above zero");
    }
    let scratch = Scratch::create(&args.database_url, "lectern_portal")?;
    let result = measure(args, &scratch).await;
    scratch.remove_after(result)
}

async fn measure(args: &PortalBenchArgs, scratch: &Scratch) -> anyhow::Result<Report> {
    let suite = Suite::start(common::suite_config(scratch)).await.context("starting the suite")?;
    let backend = Db::connect(&scratch.databases.circulation, 1)?.backend();
    let figures = crowd(&suite, args).await;
    suite.shutdown().await.context("stopping the suite")?;
    let (sign_in, calls, all, pages) = figures?;
    Ok(Report {
        backend,
        phones: args.phones,
        rounds: args.rounds,
        sign_ins_at_once: args.sign_ins_at_once,
        sign_in,
        calls,
        all,
        pages,
    })
}

type Figures = (Throughput, Vec<(&'static str, Latencies)>, Throughput, Vec<PageWeight>);

/// Loads the demo, signs the phones in and makes their rounds, then weighs
/// the pages.
async fn crowd(suite: &Suite, args: &PortalBenchArgs) -> anyhow::Result<Figures> {
    let first_admin = suite.first_admin.clone().context("the bench databases were not empty")?;
    crate::demo::load(&suite.gateway_url(), &first_admin.username, &first_admin.password)
        .await
        .context("loading the demo district")?;
    let address = suite.http_addr().context("the suite's HTTP edge is not listening")?;
    let readers: Vec<DemoReader> =
        DemoReader::all()?.into_iter().filter(|r| r.category == "student").collect();
    let queries = queries()?;
    if readers.is_empty() || queries.is_empty() {
        bail!("the demo has no students or no titles to search for");
    }
    let cards: Vec<&DemoReader> = (0..args.phones).map(|n| &readers[n % readers.len()]).collect();

    let started = Instant::now();
    let signed_in: Vec<(Phone, Latencies)> = futures::stream::iter(cards)
        .map(|reader| async move {
            let pin = demo_pin(&reader.card_barcode);
            Phone::sign_in(address, &reader.card_barcode, &pin).await
        })
        .buffer_unordered(args.sign_ins_at_once)
        .try_collect()
        .await?;
    let mut sign_in = Throughput { elapsed: started.elapsed(), latencies: Latencies::default() };
    let mut phones = Vec::with_capacity(signed_in.len());
    for (phone, took) in signed_in {
        sign_in.latencies.extend(took);
        phones.push(phone);
    }

    // One untimed round first, so every connection and cache is warm.
    rounds(&mut phones, &queries, 1, 0).await?;
    let started = Instant::now();
    let per_phone = rounds(&mut phones, &queries, args.rounds, 1).await?;
    let elapsed = started.elapsed();
    let mut calls: Vec<(&'static str, Latencies)> =
        CALLS.iter().map(|name| (*name, Latencies::default())).collect();
    let mut all = Throughput { elapsed, latencies: Latencies::default() };
    for phone in per_phone {
        for ((_, sum), latencies) in calls.iter_mut().zip(phone) {
            all.latencies.extend(latencies.clone());
            sum.extend(latencies);
        }
    }
    let kept = phones.iter().filter(|phone| phone.connections() == 1).count();
    if kept != phones.len() {
        bail!("{} of {} phones did not keep to one connection", phones.len() - kept, phones.len());
    }

    let first = &readers[0].card_barcode;
    let query = &queries[0];
    let title_id = first_title(address, first, query).await?;
    let pages = pages::weigh(address, first, &demo_pin(first), query, &title_id).await?;
    Ok((sign_in, calls, all, pages))
}

/// Every phone at once, `count` rounds each; phone `n` searches for the
/// queries from `n + offset` on, so the phones spread over the catalogue.
async fn rounds(
    phones: &mut [Phone],
    queries: &[String],
    count: usize,
    offset: usize,
) -> anyhow::Result<Vec<[Latencies; CALLS.len()]>> {
    futures::future::try_join_all(phones.iter_mut().enumerate().map(|(n, phone)| async move {
        let mut latencies: [Latencies; CALLS.len()] = Default::default();
        for round in 0..count {
            let query = &queries[(n * 7 + round + offset) % queries.len()];
            phone.round(query, &mut latencies).await?;
        }
        anyhow::Ok(latencies)
    }))
    .await
}

/// What the phones search for: the first two characters of each Chinese
/// demo title, and the first word of each English one.
fn queries() -> anyhow::Result<Vec<String>> {
    let mut queries: Vec<String> = DemoTitle::all()?
        .iter()
        .filter_map(|title| match title.language.as_str() {
            "zh" => Some(title.title.chars().take(2).collect::<String>()),
            _ => title
                .title
                .split_whitespace()
                .find(|word| word.len() >= 4 && word.chars().all(|c| c.is_ascii_alphabetic()))
                .map(str::to_owned),
        })
        .filter(|query| !query.is_empty())
        .collect();
    queries.sort();
    queries.dedup();
    Ok(queries)
}

/// A title found by `query`, asked as the reader with `card`.
async fn first_title(address: std::net::SocketAddr, card: &str, query: &str) -> anyhow::Result<String> {
    let (mut phone, _) = Phone::sign_in(address, card, &demo_pin(card)).await?;
    phone.first_title(query).await
}
