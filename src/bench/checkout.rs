//! `lectern bench checkout`: desk stations lending and taking back copies
//! through the gateway, over gRPC, over the JSON API and through the desk
//! pages, against the same writes made straight to circulation's database.
//!
//! The bench starts the whole suite in this process on fresh databases (a
//! new folder of SQLite files, or new PostgreSQL databases that are dropped
//! afterwards), registers one librarian, reader and copy per station, and
//! then, for each station count, measures four columns:
//!
//! - **suite**: every station signs in with its own session and runs
//!   check-out/check-in cycles through the gateway over gRPC (one HTTP/2
//!   connection per station), each call with its own request id, as a desk
//!   does.
//! - **json**: the same stations, sessions and cycles through the gateway's
//!   HTTP edge: `POST /api/lectern.circulation.v1.LoanService/CheckOut` and
//!   `…/CheckIn` with a proto3 JSON body and the session as a bearer token,
//!   over one HTTP/1.1 keep-alive connection per station, as a phone or a
//!   page calls it (the `json` module is its client). Each answer is read
//!   and parsed; a check-out must answer 200 with a loan. The figure is the
//!   gRPC path plus what the edge adds: HTTP/1.1, JSON to and from dynamic
//!   messages, and the in-process call into the gateway's gRPC stack.
//! - **page**: the same stations, each signed in through the staff sign-in
//!   form with its own browser session, scanning as the desk's script sends
//!   a scan (the `page` module is its client): the copy at the lending desk
//!   with the reader in view (`POST /desk/scan`), then at the return box
//!   (`POST /returns/scan`), each answered with the HTML fragment the
//!   script shows, over one HTTP/1.1 keep-alive connection per station.
//!   Beyond the JSON path this times what a desk page does per scan: the
//!   session cookie and CSRF check, the desk's school (the schools listed),
//!   the reader read back after a check-out, and the HTML rendered.
//! - **raw** (after the suite has stopped, so no relay runs alongside): the
//!   same stations run the storage work of those cycles as bare
//!   transactions on circulation's database through circulation's own
//!   queries: count the reader's open loans, look for the copy's open loan,
//!   insert the loan and its `loan.checked_out` event; then close the loan
//!   and write `loan.returned`. This is the ceiling the suite is measured
//!   against.
//!
//! The gateway cycles of a station count run in halves, gRPC, JSON, page,
//! page, JSON, gRPC, each half after its own untimed warm-up, and after each
//! half the bench waits for circulation's outbox to drain, so no half pays
//! for another's events and a slow-down as the databases grow weighs on
//! every way alike. Each check-out and each check-in counts as one
//! operation.

mod edge;
mod json;
mod page;
mod raw;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use lectern_common::db::{Backend, Db};
use lectern_core::client::with_bearer;
use lectern_core::ids;
use lectern_proto::catalog::v1::CreateCopyRequest;
use lectern_proto::catalog::v1::catalog_service_client::CatalogServiceClient;
use lectern_proto::circulation::v1::loan_service_client::LoanServiceClient;
use lectern_proto::circulation::v1::{CheckInRequest, CheckOutRequest};
use lectern_proto::reader::v1::identity_service_client::IdentityServiceClient;
use lectern_proto::reader::v1::reader_service_client::ReaderServiceClient;
use tonic::transport::Channel;

use self::json::JsonDesk;
use self::page::PageDesk;
use super::common;
use super::latency::{Latencies, Throughput};
use super::scratch::Scratch;
use crate::suite::Suite;

const DEADLINE: Duration = Duration::from_secs(30);

/// Arguments of `lectern bench checkout`.
#[derive(Debug, Clone, clap::Args)]
pub struct CheckoutBenchArgs {
    /// Where to make the bench's databases: a folder (a new subfolder of
    /// SQLite files, removed afterwards) or a PostgreSQL server URL such as
    /// postgres://postgres@127.0.0.1:5432/postgres (four new databases,
    /// dropped afterwards).
    #[arg(long)]
    pub database_url: String,
    /// Station counts to run, one round each (comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "1,4,16")]
    pub stations: Vec<usize>,
    /// Check-out/check-in cycles per station and round (after a few
    /// untimed warm-up cycles).
    #[arg(long, default_value_t = 200)]
    pub cycles: usize,
}

/// The figures of one round.
#[derive(Debug, Clone)]
pub struct Round {
    /// Desk stations working at once.
    pub stations: usize,
    /// Through the gateway over gRPC.
    pub suite: Throughput,
    /// Through the gateway's JSON API on its HTTP edge.
    pub json: Throughput,
    /// Through the desk pages, as the desk's script sends a scan.
    pub page: Throughput,
    /// Straight to circulation's database.
    pub raw: Throughput,
}

impl Round {
    /// Suite throughput (gRPC) as a share of the raw ceiling.
    pub fn ratio(&self) -> f64 {
        share(&self.suite, &self.raw)
    }

    /// JSON throughput as a share of gRPC's.
    pub fn json_ratio(&self) -> f64 {
        share(&self.json, &self.suite)
    }

    /// The desk pages' throughput as a share of gRPC's.
    pub fn page_ratio(&self) -> f64 {
        share(&self.page, &self.suite)
    }
}

/// `part`'s ops/s over `whole`'s; 0 when `whole` did nothing.
fn share(part: &Throughput, whole: &Throughput) -> f64 {
    if whole.ops_per_second() > 0.0 { part.ops_per_second() / whole.ops_per_second() } else { 0.0 }
}

/// What a run measured.
#[derive(Debug, Clone)]
pub struct Report {
    /// The backend the suite ran on.
    pub backend: Backend,
    /// Cycles per station and round.
    pub cycles: usize,
    /// One per station count, in the order asked.
    pub rounds: Vec<Round>,
}

impl std::fmt::Display for Report {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let backend = common::backend_name(self.backend);
        writeln!(
            formatter,
            "check-out/check-in on {backend}: {} cycles per station; one op = one check-out or one check-in; \
             suite = gateway over gRPC, json = gateway's JSON API over HTTP/1.1, \
             page = desk pages' scan requests over HTTP/1.1, raw = circulation's database",
            self.cycles
        )?;
        writeln!(
            formatter,
            "{:>8} | {:>11} {:>8} {:>8} | {:>11} {:>8} {:>8} | {:>11} {:>8} {:>8} | {:>11} {:>8} {:>8} \
             | {:>9} {:>10} {:>10}",
            "stations",
            "suite ops/s",
            "p50 ms",
            "p99 ms",
            "json ops/s",
            "p50 ms",
            "p99 ms",
            "page ops/s",
            "p50 ms",
            "p99 ms",
            "raw ops/s",
            "p50 ms",
            "p99 ms",
            "suite/raw",
            "json/suite",
            "page/suite"
        )?;
        for round in &self.rounds {
            write!(formatter, "{:>8}", round.stations)?;
            for side in [&round.suite, &round.json, &round.page, &round.raw] {
                write!(
                    formatter,
                    " | {:>11.1} {:>8.2} {:>8.2}",
                    side.ops_per_second(),
                    side.latencies.percentile_ms(50.0),
                    side.latencies.percentile_ms(99.0),
                )?;
            }
            writeln!(
                formatter,
                " | {:>9.2} {:>10.2} {:>10.2}",
                round.ratio(),
                round.json_ratio(),
                round.page_ratio()
            )?;
        }
        Ok(())
    }
}

/// Runs the bench and returns its figures.
pub async fn run(args: &CheckoutBenchArgs) -> anyhow::Result<Report> {
    common::check_rounds(&args.stations, "station", "1,4,16", args.cycles)?;
    let databases = Scratch::create(&args.database_url, "lectern_bench")?;
    let result = measure(args, &databases).await;
    databases.remove_after(result)
}

async fn measure(args: &CheckoutBenchArgs, scratch: &Scratch) -> anyhow::Result<Report> {
    let most = args.stations.iter().copied().max().unwrap_or(1);
    let suite = Suite::start(common::suite_config(scratch)).await.context("starting the suite")?;
    let circulation = Db::connect(&scratch.databases.circulation, u32::try_from(most).unwrap_or(u32::MAX))?;

    let suite_figures = async {
        let first_admin = suite.first_admin.clone().context("the bench databases were not empty")?;
        let http = suite.http_addr().context("the suite's HTTP edge is not listening")?;
        let channel = Channel::from_shared(suite.gateway_url())?.connect().await?;
        let mut desks = register_desks(
            &suite.gateway_url(),
            http,
            &channel,
            &first_admin.username,
            &first_admin.password,
            most,
        )
        .await?;
        let mut figures = Vec::new();
        for &stations in &args.stations {
            figures.push(gateway_rounds(&mut desks[..stations], args.cycles, &circulation).await?);
        }
        anyhow::Ok((desks, figures))
    }
    .await;
    suite.shutdown().await.context("stopping the suite")?;
    let (desks, suite_figures) = suite_figures?;

    let mut rounds = Vec::new();
    for (&stations, Gateway { grpc, json, page }) in args.stations.iter().zip(suite_figures) {
        let raw = raw::raw_round(&circulation, &desks[..stations], args.cycles).await?;
        rounds.push(Round { stations, suite: grpc, json, page, raw });
    }
    Ok(Report { backend: circulation.backend(), cycles: args.cycles, rounds })
}

/// One desk station: its own connections to the gateway (gRPC and two over
/// HTTP), a librarian's sessions, a reader and a copy.
#[derive(Debug, Clone)]
struct Desk {
    channel: Channel,
    /// The same session on the JSON API.
    json: JsonDesk,
    /// The same librarian signed in to the desk pages.
    page: PageDesk,
    token: String,
    reader_id: String,
    card: String,
    copy_barcode: String,
    /// A loan the suite made at this desk, the pattern of the raw loans.
    pattern: Option<String>,
}

/// A school, a title, and per station a librarian, a reader and a copy.
async fn register_desks(
    gateway_url: &str,
    http: SocketAddr,
    channel: &Channel,
    admin: &str,
    one_time_password: &str,
    count: usize,
) -> anyhow::Result<Vec<Desk>> {
    let admin = crate::demo::sign_in_and_rotate(channel, admin, one_time_password).await?;
    let token = admin.token.as_str();
    let mut readers = ReaderServiceClient::new(channel.clone());
    let mut identity = IdentityServiceClient::new(channel.clone());
    let mut catalog = CatalogServiceClient::new(channel.clone());
    let library = common::create_library(channel, token, "BENCH", "压力测试学校", DEADLINE).await?;

    let mut desks = Vec::with_capacity(count);
    for station in 1..=count {
        let username = format!("desk{station:02}");
        let password = format!("{}-{}", username, uuid::Uuid::new_v4().simple());
        library
            .create_librarian(&mut identity, token, &username, format!("Desk {station}"), &password, DEADLINE)
            .await
            .with_context(|| format!("creating the account of {username}"))?;
        let signed_in = crate::demo::sign_in_and_rotate(channel, &username, &password).await?;
        let card = format!("BENCH{station:04}");
        let reader = readers
            .create_reader(with_bearer(library.student(&card, format!("读者{station}")), token, DEADLINE))
            .await
            .with_context(|| format!("registering reader {card}"))?
            .into_inner();
        let copy_barcode = format!("BC{station:06}");
        catalog
            .create_copy(with_bearer(
                CreateCopyRequest {
                    title_id: library.title_id.clone(),
                    barcode: copy_barcode.clone(),
                    school_id: library.school_id.clone(),
                    ..Default::default()
                },
                token,
                DEADLINE,
            ))
            .await
            .with_context(|| format!("adding copy {copy_barcode}"))?;
        let channel = Channel::from_shared(gateway_url.to_owned())?.connect().await?;
        desks.push(Desk {
            channel,
            json: JsonDesk::new(http, &signed_in.token),
            page: PageDesk::sign_in(http, &username, &signed_in.password).await?,
            token: signed_in.token,
            reader_id: reader.id,
            card,
            copy_barcode,
            pattern: None,
        });
    }
    Ok(desks)
}

/// Untimed cycles per station before the clock starts: connections and
/// caches are warm when timing begins.
fn warm_up_cycles(cycles: usize) -> usize {
    cycles.min(10)
}

/// How a round's stations call the gateway.
#[derive(Debug, Clone, Copy)]
enum Way {
    /// gRPC, one HTTP/2 connection per station.
    Grpc,
    /// The JSON API, one HTTP/1.1 keep-alive connection per station.
    Json,
    /// The desk pages, one HTTP/1.1 keep-alive connection per station.
    Page,
}

/// The figures of one station count through the gateway, by way.
#[derive(Debug, Default)]
struct Gateway {
    grpc: Throughput,
    json: Throughput,
    page: Throughput,
}

impl Desk {
    /// How many HTTP connections the station's answers on `way` came on
    /// since the last time this was asked; `None` for gRPC.
    fn take_connections(&mut self, way: Way) -> Option<usize> {
        match way {
            Way::Grpc => None,
            Way::Json => Some(self.json.edge.take_connections()),
            Way::Page => Some(self.page.edge.take_connections()),
        }
    }
}

/// The gRPC, JSON and page figures of one station count. Each way's cycles
/// run in two halves, in the order gRPC, JSON, page, page, JSON, gRPC, and
/// the outbox is drained after each half: the suite slows as its databases
/// grow over a run (markedly on SQLite), and this order gives every way the
/// same share of early and late.
async fn gateway_rounds(desks: &mut [Desk], cycles: usize, circulation: &Db) -> anyhow::Result<Gateway> {
    let (early, late) = (cycles / 2, cycles - cycles / 2);
    let order = [
        (Way::Grpc, early),
        (Way::Json, early),
        (Way::Page, early),
        (Way::Page, late),
        (Way::Json, late),
        (Way::Grpc, late),
    ];
    let mut figures = Gateway::default();
    for (way, cycles) in order {
        if cycles == 0 {
            continue;
        }
        let half = gateway_round(desks, cycles, way).await?;
        common::drain_outbox(circulation).await?;
        match way {
            Way::Grpc => figures.grpc.extend(half),
            Way::Json => figures.json.extend(half),
            Way::Page => figures.page.extend(half),
        }
    }
    Ok(figures)
}

/// All stations of a round through the gateway at once. Each desk keeps
/// the last loan it made, the pattern of the raw loans.
async fn gateway_round(desks: &mut [Desk], cycles: usize, way: Way) -> anyhow::Result<Throughput> {
    // Untimed first, so every station's connection is up when timing starts.
    let mut warm = run_stations(desks, warm_up_cycles(cycles), way).await?;
    // The edge closes a connection idle for a while (as between rounds), so
    // the warm-up may have opened a new one; only the timed part counts.
    for desk in &mut warm.desks {
        desk.take_connections(way);
    }
    let started = Instant::now();
    let mut timed = run_stations(&warm.desks, cycles, way).await?;
    let elapsed = started.elapsed();
    for desk in &mut timed.desks {
        if let Some(connections) = desk.take_connections(way).filter(|&connections| connections != 1) {
            bail!(
                "desk {} used {connections} HTTP connections in its timed {way:?} cycles instead of one \
                 kept alive, so the figures would include connection set-up",
                desk.card
            );
        }
    }
    desks.clone_from_slice(&timed.desks);
    Ok(Throughput { elapsed, latencies: timed.latencies })
}

/// What the stations of a round did.
struct Ran {
    desks: Vec<Desk>,
    latencies: Latencies,
}

async fn run_stations(desks: &[Desk], cycles: usize, way: Way) -> anyhow::Result<Ran> {
    let stations: Vec<_> = desks
        .iter()
        .cloned()
        .map(|mut desk| {
            let mut client = LoanServiceClient::new(desk.channel.clone());
            tokio::spawn(async move {
                let mut latencies = Latencies::default();
                for _ in 0..cycles {
                    match way {
                        Way::Grpc => grpc_cycle(&mut client, &mut desk, &mut latencies).await?,
                        Way::Json => json_cycle(&mut desk, &mut latencies).await?,
                        Way::Page => page_cycle(&mut desk, &mut latencies).await?,
                    }
                }
                anyhow::Ok((desk, latencies))
            })
        })
        .collect();
    let mut ran = Ran { desks: Vec::with_capacity(stations.len()), latencies: Latencies::default() };
    for station in stations {
        let (desk, latencies) = station.await??;
        ran.desks.push(desk);
        ran.latencies.extend(latencies);
    }
    Ok(ran)
}

/// One check-out and one check-in at a desk over gRPC, each a timed
/// operation.
async fn grpc_cycle(
    client: &mut LoanServiceClient<Channel>,
    desk: &mut Desk,
    latencies: &mut Latencies,
) -> anyhow::Result<()> {
    let started = Instant::now();
    let lent = client
        .check_out(with_bearer(
            CheckOutRequest {
                reader_card_barcode: desk.card.clone(),
                copy_barcode: desk.copy_barcode.clone(),
                request_id: ids::new_id(),
                ..Default::default()
            },
            &desk.token,
            DEADLINE,
        ))
        .await
        .with_context(|| format!("check-out of {} to {}", desk.copy_barcode, desk.card))?
        .into_inner();
    latencies.record(started.elapsed());
    desk.pattern = lent.loan.map(|loan| loan.id);

    let started = Instant::now();
    let returned = client
        .check_in(with_bearer(
            CheckInRequest {
                copy_barcode: desk.copy_barcode.clone(),
                request_id: ids::new_id(),
                ..Default::default()
            },
            &desk.token,
            DEADLINE,
        ))
        .await
        .with_context(|| format!("check-in of {}", desk.copy_barcode))?
        .into_inner();
    latencies.record(started.elapsed());
    if !returned.was_on_loan {
        bail!("check-in of {} found it not on loan", desk.copy_barcode);
    }
    Ok(())
}

/// One check-out and one check-in at a desk over the JSON API, each a
/// timed operation.
async fn json_cycle(desk: &mut Desk, latencies: &mut Latencies) -> anyhow::Result<()> {
    let started = Instant::now();
    let loan_id = desk
        .json
        .check_out(&desk.card, &desk.copy_barcode)
        .await
        .with_context(|| format!("check-out of {} to {} over JSON", desk.copy_barcode, desk.card))?;
    latencies.record(started.elapsed());
    desk.pattern = Some(loan_id);

    let started = Instant::now();
    let was_on_loan = desk
        .json
        .check_in(&desk.copy_barcode)
        .await
        .with_context(|| format!("check-in of {} over JSON", desk.copy_barcode))?;
    latencies.record(started.elapsed());
    if !was_on_loan {
        bail!("check-in of {} over JSON found it not on loan", desk.copy_barcode);
    }
    Ok(())
}

/// One scan of the copy at the lending desk with the reader in view and one
/// at the return box, through the desk pages, each a timed operation.
async fn page_cycle(desk: &mut Desk, latencies: &mut Latencies) -> anyhow::Result<()> {
    let started = Instant::now();
    desk.page
        .check_out(&desk.reader_id, &desk.card, &desk.copy_barcode)
        .await
        .with_context(|| format!("scanning {} at the desk for {}", desk.copy_barcode, desk.card))?;
    latencies.record(started.elapsed());

    let started = Instant::now();
    desk.page
        .check_in(&desk.copy_barcode)
        .await
        .with_context(|| format!("scanning {} at the return box", desk.copy_barcode))?;
    latencies.record(started.elapsed());
    Ok(())
}
