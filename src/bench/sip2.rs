//! `lectern bench sip2`: self-check machines lending and taking back
//! copies over SIP2, beside desks doing the same over gRPC, in one run of
//! the whole suite on fresh databases (a new folder of SQLite files, or new
//! PostgreSQL databases dropped afterwards).
//!
//! Each station has a reader and a copy of its own. A **SIP2** station is
//! a machine of its own (a SIP2 device account, one TCP connection, error
//! detection on) whose reader signed in once with card and PIN (63), then
//! checks the copy out (11) and back in as a return box (09), over and
//! over, each message with a fresh transaction date as a machine sends. A
//! **gRPC** station is a desk (one HTTP/2 connection, a librarian's
//! session) doing the same cycles with `CheckOut` and `CheckIn`, each with
//! its own request id. One operation is one check-out or one check-in, as
//! in `lectern bench checkout`. Per machine count the halves run SIP2,
//! gRPC, gRPC, SIP2, each after an untimed warm-up and with circulation's
//! outbox drained after it, so both ways share early and late alike.
//!
//! Then the **race**: every machine's reader and as many desks' readers
//! try to borrow one more copy at the same moment; exactly one loan must
//! result and every other answer be a refusal (a 12 with ok `0`, a
//! FAILED_PRECONDITION with its reason), or the bench fails.

mod machine;

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use lectern_common::db::{Backend, Db};
use lectern_core::client::with_bearer;
use lectern_core::ids;
use lectern_proto::circulation::v1::loan_service_client::LoanServiceClient;
use lectern_proto::circulation::v1::{CheckInRequest, CheckOutRequest};
use tokio::sync::Barrier;
use tonic::transport::Channel;

use self::machine::{Machine, screen_message};
use super::common;
use super::latency::{Latencies, Throughput};
use super::scratch::Scratch;
use crate::suite::Suite;

mod setup;

/// Arguments of `lectern bench sip2`.
#[derive(Debug, Clone, clap::Args)]
pub struct Sip2BenchArgs {
    /// Where to make the bench's databases: a folder (a new subfolder of
    /// SQLite files, removed afterwards) or a PostgreSQL server URL such as
    /// postgres://postgres@127.0.0.1:5432/postgres (four new databases,
    /// dropped afterwards).
    #[arg(long)]
    pub database_url: String,
    /// Machine counts to run, one round each (comma-separated); each round
    /// runs as many gRPC desks beside.
    #[arg(long, value_delimiter = ',', default_value = "1,50")]
    pub machines: Vec<usize>,
    /// Check-out/check-in cycles per station and round (after a few
    /// untimed warm-up cycles).
    #[arg(long, default_value_t = 100)]
    pub cycles: usize,
    /// Machines (and as many desks) racing for one copy at the end; 0 for
    /// no race.
    #[arg(long, default_value_t = 50)]
    pub race: usize,
}

/// The figures of one machine count.
#[derive(Debug, Clone)]
pub struct Round {
    /// Machines (and desks) working at once.
    pub machines: usize,
    /// The machines over SIP2.
    pub sip2: Throughput,
    /// The desks over gRPC.
    pub grpc: Throughput,
}

/// How the race for one copy ended.
#[derive(Debug, Clone)]
pub struct Race {
    /// Machines and desks that raced (as many of each).
    pub machines: usize,
    /// Loans made at a machine and at a desk (one in all).
    pub lent_at_machines: usize,
    pub lent_at_desks: usize,
    /// From the start signal to the last answer.
    pub took: Duration,
}

/// What a run measured.
#[derive(Debug, Clone)]
pub struct Report {
    /// The backend the suite ran on.
    pub backend: Backend,
    /// Cycles per station and round.
    pub cycles: usize,
    /// One per machine count, in the order asked.
    pub rounds: Vec<Round>,
    /// The race, unless `--race 0`.
    pub race: Option<Race>,
}

impl std::fmt::Display for Report {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let backend = common::backend_name(self.backend);
        writeln!(
            formatter,
            "SIP2 check-out/check-in on {backend}: {} cycles per station; one op = one check-out or one \
             check-in; sip2 = self-check machines over SIP2 (a connection and a device each), \
             grpc = as many desks over gRPC",
            self.cycles
        )?;
        writeln!(
            formatter,
            "{:>8} | {:>10} {:>8} {:>8} | {:>10} {:>8} {:>8} | {:>9}",
            "machines", "sip2 ops/s", "p50 ms", "p99 ms", "grpc ops/s", "p50 ms", "p99 ms", "sip2/grpc"
        )?;
        for round in &self.rounds {
            write!(formatter, "{:>8}", round.machines)?;
            for side in [&round.sip2, &round.grpc] {
                write!(
                    formatter,
                    " | {:>10.1} {:>8.2} {:>8.2}",
                    side.ops_per_second(),
                    side.latencies.percentile_ms(50.0),
                    side.latencies.percentile_ms(99.0)
                )?;
            }
            let grpc = round.grpc.ops_per_second();
            let ratio = if grpc > 0.0 { round.sip2.ops_per_second() / grpc } else { 0.0 };
            writeln!(formatter, " | {ratio:>9.2}")?;
        }
        if let Some(race) = &self.race {
            writeln!(
                formatter,
                "race for one copy: {} machines and {} desks at once → one loan ({}), every other answer \
                 a refusal, in {:.2} s",
                race.machines,
                race.machines,
                if race.lent_at_machines == 1 { "at a machine" } else { "at a desk" },
                race.took.as_secs_f64()
            )?;
        }
        Ok(())
    }
}

/// Runs the bench and returns its figures.
pub async fn run(args: &Sip2BenchArgs) -> anyhow::Result<Report> {
    common::check_rounds(&args.machines, "machine", "1,50", args.cycles)?;
    let scratch = Scratch::create(&args.database_url, "lectern_sip2")?;
    let result = measure(args, &scratch).await;
    scratch.remove_after(result)
}

async fn measure(args: &Sip2BenchArgs, scratch: &Scratch) -> anyhow::Result<Report> {
    let most = args.machines.iter().copied().max().unwrap_or(1).max(args.race);
    let suite = Suite::start(common::suite_config(scratch)).await.context("starting the suite")?;
    let circulation = Db::connect(&scratch.databases.circulation, 2)?;
    let figures = async {
        let sip2 = suite.sip2_addr().context("the suite's SIP2 edge is not listening")?;
        let stations = setup::register(&suite, sip2, most).await?;
        let (mut machines, mut desks) = (stations.machines, stations.desks);
        let mut rounds = Vec::new();
        for &count in &args.machines {
            let mut round =
                Round { machines: count, sip2: Throughput::default(), grpc: Throughput::default() };
            let (early, late) = (args.cycles / 2, args.cycles - args.cycles / 2);
            for (way, cycles) in
                [(Way::Sip2, early), (Way::Grpc, early), (Way::Grpc, late), (Way::Sip2, late)]
            {
                if cycles == 0 {
                    continue;
                }
                match way {
                    Way::Sip2 => round.sip2.extend(machines_round(&mut machines[..count], cycles).await?),
                    Way::Grpc => round.grpc.extend(desks_round(&desks[..count], cycles).await?),
                }
                common::drain_outbox(&circulation).await?;
            }
            rounds.push(round);
        }
        let race = if args.race > 0 {
            Some(race(&mut machines[..args.race], &mut desks[..args.race], &stations.race_copy).await?)
        } else {
            None
        };
        anyhow::Ok((rounds, race))
    }
    .await;
    suite.shutdown().await.context("stopping the suite")?;
    let (rounds, race) = figures?;
    Ok(Report { backend: circulation.backend(), cycles: args.cycles, rounds, race })
}

#[derive(Debug, Clone, Copy)]
enum Way {
    Sip2,
    Grpc,
}

/// A machine and the reader signed in at it, with their copy.
#[derive(Debug)]
pub(crate) struct MachineStation {
    machine: Machine,
    card: String,
    copy: String,
}

/// A desk: its connection and session, a reader and a copy.
#[derive(Debug, Clone)]
pub(crate) struct DeskStation {
    channel: Channel,
    token: String,
    card: String,
    copy: String,
}

/// Untimed cycles per station before the clock starts.
fn warm_up_cycles(cycles: usize) -> usize {
    cycles.min(5)
}

/// All `stations` machines at once, `cycles` cycles each after a warm-up.
async fn machines_round(stations: &mut [MachineStation], cycles: usize) -> anyhow::Result<Throughput> {
    async fn cycle(station: &mut MachineStation, latencies: &mut Latencies) -> anyhow::Result<()> {
        let started = Instant::now();
        let lent = station.machine.check_out(&station.card, &station.copy).await?;
        latencies.record(started.elapsed());
        if !lent.starts_with("121") {
            bail!("the machine did not lend {}: {}", station.copy, screen_message(&lent));
        }
        let started = Instant::now();
        let returned = station.machine.check_in(&station.copy).await?;
        latencies.record(started.elapsed());
        if !returned.starts_with("101") {
            bail!("the machine did not take {} back: {}", station.copy, screen_message(&returned));
        }
        Ok(())
    }
    async fn run(stations: &mut [MachineStation], cycles: usize) -> anyhow::Result<Vec<Latencies>> {
        futures::future::try_join_all(stations.iter_mut().map(|station| async move {
            let mut latencies = Latencies::default();
            for _ in 0..cycles {
                cycle(station, &mut latencies).await?;
            }
            anyhow::Ok(latencies)
        }))
        .await
    }
    run(stations, warm_up_cycles(cycles)).await?;
    let started = Instant::now();
    let ran = run(stations, cycles).await?;
    let elapsed = started.elapsed();
    let mut latencies = Latencies::default();
    for station in ran {
        latencies.extend(station);
    }
    Ok(Throughput { elapsed, latencies })
}

/// All `desks` at once over gRPC, `cycles` cycles each after a warm-up.
async fn desks_round(desks: &[DeskStation], cycles: usize) -> anyhow::Result<Throughput> {
    async fn cycle(desk: &DeskStation, latencies: &mut Latencies) -> anyhow::Result<()> {
        let mut loans = LoanServiceClient::new(desk.channel.clone());
        let started = Instant::now();
        let request = CheckOutRequest {
            reader_card_barcode: desk.card.clone(),
            copy_barcode: desk.copy.clone(),
            request_id: ids::new_id(),
            ..Default::default()
        };
        loans
            .check_out(with_bearer(request, &desk.token, setup::DEADLINE))
            .await
            .with_context(|| format!("check-out of {} at a desk", desk.copy))?;
        latencies.record(started.elapsed());
        let started = Instant::now();
        let request = CheckInRequest {
            copy_barcode: desk.copy.clone(),
            request_id: ids::new_id(),
            ..Default::default()
        };
        let returned = loans
            .check_in(with_bearer(request, &desk.token, setup::DEADLINE))
            .await
            .with_context(|| format!("check-in of {} at a desk", desk.copy))?;
        latencies.record(started.elapsed());
        if !returned.into_inner().was_on_loan {
            bail!("check-in of {} found it not on loan", desk.copy);
        }
        Ok(())
    }
    let run = |cycles: usize| {
        futures::future::try_join_all(desks.iter().map(|desk| async move {
            let mut latencies = Latencies::default();
            for _ in 0..cycles {
                cycle(desk, &mut latencies).await?;
            }
            anyhow::Ok(latencies)
        }))
    };
    run(warm_up_cycles(cycles)).await?;
    let started = Instant::now();
    let ran = run(cycles).await?;
    let elapsed = started.elapsed();
    let mut latencies = Latencies::default();
    for desk in ran {
        latencies.extend(desk);
    }
    Ok(Throughput { elapsed, latencies })
}

/// Every machine's reader and every desk's reader try to borrow `copy` at
/// the same moment.
async fn race(
    machines: &mut [MachineStation],
    desks: &mut [DeskStation],
    copy: &str,
) -> anyhow::Result<Race> {
    let barrier = Arc::new(Barrier::new(machines.len() + desks.len()));
    let at_machines = machines.iter_mut().map(|station| {
        let barrier = barrier.clone();
        async move {
            barrier.wait().await;
            let answer = station.machine.check_out(&station.card, copy).await?;
            match answer.get(..3) {
                Some("121") => anyhow::Ok(true),
                Some("120") if !screen_message(&answer).is_empty() => Ok(false),
                _ => bail!("a machine in the race got neither a loan nor a refusal: {answer}"),
            }
        }
    });
    let at_desks = desks.iter().map(|desk| {
        let barrier = barrier.clone();
        async move {
            let mut loans = LoanServiceClient::new(desk.channel.clone());
            let request = CheckOutRequest {
                reader_card_barcode: desk.card.clone(),
                copy_barcode: copy.to_owned(),
                request_id: ids::new_id(),
                ..Default::default()
            };
            barrier.wait().await;
            match loans.check_out(with_bearer(request, &desk.token, setup::DEADLINE)).await {
                Ok(_) => anyhow::Ok(true),
                Err(status) if status.code() == tonic::Code::FailedPrecondition => Ok(false),
                Err(status) => bail!("a desk in the race got neither a loan nor a refusal: {status:?}"),
            }
        }
    });
    let started = Instant::now();
    let (machines_lent, desks_lent) =
        tokio::join!(futures::future::join_all(at_machines), futures::future::join_all(at_desks));
    let took = started.elapsed();
    let count = |answers: Vec<anyhow::Result<bool>>| -> anyhow::Result<usize> {
        answers.into_iter().try_fold(0, |lent, answer| Ok(lent + usize::from(answer?)))
    };
    let (lent_at_machines, lent_at_desks) = (count(machines_lent)?, count(desks_lent)?);
    if lent_at_machines + lent_at_desks != 1 {
        bail!("the race for one copy made {} loans", lent_at_machines + lent_at_desks);
    }
    Ok(Race { machines: machines.len(), lent_at_machines, lent_at_desks, took })
}
