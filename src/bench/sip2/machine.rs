//! The bench's self-check machine: raw SIP2 2.00 over TCP with error
//! detection (sequence number and a checksum over the bytes), one message
//! and its answer at a time, as a machine works. Written from the protocol
//! and not with the gateway's codec, so the figures include nothing the
//! machine would not do.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Context as _, bail};
use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::TcpStream;

/// How long one answer may take.
const ANSWER_DEADLINE: Duration = Duration::from_secs(60);

/// A blank SIP2 date (no transaction date: no request id either).
pub const NO_DATE: &str = "                  ";

/// The SIP2 checksum of `bytes`: the two's complement of their sum, as
/// four upper-case hex digits.
pub fn checksum(bytes: &[u8]) -> String {
    let sum = bytes.iter().fold(0u16, |sum, byte| sum.wrapping_add(u16::from(*byte)));
    format!("{:04X}", sum.wrapping_neg())
}

/// The `n`th transaction date of a machine (`YYYYMMDDZZZZHHMMSS`, local
/// time): one second apart, so each message is a transaction of its own.
pub fn date(n: u32) -> String {
    let start = chrono::NaiveDate::from_ymd_opt(2026, 9, 1)
        .and_then(|day| day.and_hms_opt(8, 0, 0))
        .unwrap_or_default();
    (start + chrono::Duration::seconds(i64::from(n))).format("%Y%m%d    %H%M%S").to_string()
}

/// One connection of a self-check machine.
#[derive(Debug)]
pub struct Machine {
    stream: BufReader<TcpStream>,
    seq: u8,
    /// Transaction dates used so far.
    dates: u32,
}

impl Machine {
    /// Connects and logs in as `device_id` with `key`.
    pub async fn logged_in(address: SocketAddr, device_id: &str, key: &str) -> anyhow::Result<Self> {
        let stream = TcpStream::connect(address).await.context("connecting to the SIP2 port")?;
        stream.set_nodelay(true)?;
        let mut machine = Self { stream: BufReader::new(stream), seq: 0, dates: 0 };
        let answer = machine.ask(&format!("9300CN{device_id}|CO{key}|CPbench|")).await?;
        if !answer.starts_with("941") {
            bail!("the SIP2 login of device {device_id} was refused: {answer}");
        }
        Ok(machine)
    }

    /// A fresh transaction date.
    pub fn next_date(&mut self) -> String {
        self.dates += 1;
        date(self.dates)
    }

    /// Sends `message` with the next sequence number and its checksum, and
    /// returns the answer (without its terminator) once its checksum and
    /// sequence number are checked.
    pub async fn ask(&mut self, message: &str) -> anyhow::Result<String> {
        let seq = self.seq;
        self.seq = (self.seq + 1) % 10;
        let mut bytes = format!("{message}AY{seq}AZ").into_bytes();
        let sum = checksum(&bytes);
        bytes.extend_from_slice(sum.as_bytes());
        bytes.push(b'\r');
        self.stream.get_mut().write_all(&bytes).await.context("sending to the SIP2 port")?;
        let mut line = Vec::new();
        let read = tokio::time::timeout(ANSWER_DEADLINE, self.stream.read_until(b'\r', &mut line))
            .await
            .context("no SIP2 answer within a minute")?
            .context("reading the SIP2 answer")?;
        if read == 0 || line.last() != Some(&b'\r') {
            bail!("the SIP2 connection closed before answering {}", &message[..2.min(message.len())]);
        }
        line.pop();
        // A CR LF machine's LF arrives first on the next answer.
        if line.first() == Some(&b'\n') {
            line.remove(0);
        }
        let answer = String::from_utf8(line).context("the SIP2 answer is not UTF-8")?;
        let Some(at) = answer.rfind("AZ") else { bail!("the SIP2 answer has no checksum: {answer}") };
        let (body, sum) = answer.split_at(at + 2);
        if checksum(body.as_bytes()) != sum || !body.ends_with(&format!("AY{seq}AZ")) {
            bail!("the SIP2 answer's checksum or sequence number is wrong: {answer}");
        }
        Ok(answer)
    }

    /// 63 with the card and PIN: signs the patron in at the machine.
    pub async fn sign_in(&mut self, card: &str, pin: &str) -> anyhow::Result<()> {
        let message = format!("63001{}          AO|AA{card}|AD{pin}|", self.next_date());
        let answer = self.ask(&message).await?;
        if !answer.contains("|CQY|") {
            bail!("card {card} was not signed in at the machine: {answer}");
        }
        Ok(())
    }

    /// 11 of `copy` for the patron signed in with `card`: the answer.
    pub async fn check_out(&mut self, card: &str, copy: &str) -> anyhow::Result<String> {
        let message = format!("11NN{}{NO_DATE}AO|AA{card}|AB{copy}|AC|", self.next_date());
        self.ask(&message).await
    }

    /// 09 of `copy` (the machine as a return box): the answer.
    pub async fn check_in(&mut self, copy: &str) -> anyhow::Result<String> {
        let date = self.next_date();
        self.ask(&format!("09N{date}{date}AP|AO|AB{copy}|AC|")).await
    }
}

/// The screen message of an answer, for an error report.
pub fn screen_message(answer: &str) -> &str {
    answer.split('|').find_map(|field| field.strip_prefix("AF")).unwrap_or(answer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reference_checksum_and_distinct_dates() {
        assert_eq!(checksum(b"9900302.00AY1AZ"), "FCA5");
        assert_eq!(date(1), "20260901    080001");
        assert_eq!(date(3600), "20260901    090000");
        assert_eq!(date(1).len(), 18);
        assert_eq!(screen_message("120NNN…|AFnot here|AY1AZ0000"), "not here");
    }
}
