//! One machine's connection: bytes in, frames out of the codec's framer,
//! each frame handed to the connection's [`Session`], each answer written
//! back. The connection ends when the machine hangs up, has not logged in
//! by the login deadline, stays silent past the idle limit, the session
//! asks to close (too many failed logins or bad frames), a write stalls,
//! or the edge stops — and a stop never cuts a message in flight: the
//! frame being handled is answered first.

use std::time::Duration;

use lectern_core::shutdown::Shutdown;
use lectern_sip2::{DEFAULT_MAX_FRAME, Frame, Framer};
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};
use tokio::time::Instant;

use super::Edge;
use super::session::{Reply, Session};

/// How long writing one answer may take before the machine is given up.
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);

/// How long signing the patron out may take when the connection ends.
const END_TIMEOUT: Duration = Duration::from_secs(5);

/// Bytes read at a time.
const READ_CHUNK: usize = 8 * 1024;

/// Serves one connection until it ends.
pub async fn run<S>(mut stream: S, edge: &Edge, shutdown: &Shutdown)
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    let mut session = Session::new(edge.clone());
    let mut gauge = super::metrics::ConnectionGauge::open();
    let mut framer = Framer::new(DEFAULT_MAX_FRAME);
    let mut buffer = vec![0u8; READ_CHUNK];
    let login_deadline = Instant::now() + edge.config().login_timeout;
    let mut idle_deadline = Instant::now() + edge.config().idle_timeout;
    let stopping = shutdown.wait();
    tokio::pin!(stopping);
    'connection: loop {
        while let Some(frame) = framer.next_frame() {
            let reply = match frame {
                Frame::Message(bytes) => session.on_frame(&bytes).await,
                Frame::TooLong => session.on_too_long(),
            };
            gauge.follow(session.device.as_ref().map(|device| device.school_id.as_str()));
            let (answer, close) = match reply {
                Reply::Send(answer) => (Some(answer), false),
                Reply::SendAndClose(answer) => (Some(answer), true),
                Reply::Nothing => (None, false),
            };
            if let Some(answer) = answer
                && !write(&mut stream, &answer).await
            {
                break 'connection;
            }
            if close || shutdown.is_triggered() {
                break 'connection;
            }
        }
        let deadline = if session.logged_in() { idle_deadline } else { login_deadline.min(idle_deadline) };
        tokio::select! {
            () = &mut stopping => break,
            () = tokio::time::sleep_until(deadline) => {
                if session.logged_in() {
                    tracing::info!("SIP2 connection idle too long; closing it");
                } else {
                    tracing::info!("SIP2 connection did not log in in time; closing it");
                }
                break;
            }
            read = stream.read(&mut buffer) => match read {
                Ok(0) => {
                    if framer.has_partial() {
                        tracing::debug!("SIP2 connection ended in the middle of a message; it is dropped");
                    }
                    break;
                }
                Ok(read) => {
                    framer.push(&buffer[..read]);
                    idle_deadline = Instant::now() + edge.config().idle_timeout;
                }
                Err(error) => {
                    tracing::debug!(%error, "reading a SIP2 connection failed");
                    break;
                }
            },
        }
    }
    // Ending the patron's session is a courtesy: during a stop the reader
    // service may already be gone, and the token ends on its own anyway.
    let _ = tokio::time::timeout(END_TIMEOUT, session.end()).await;
    let _ = tokio::time::timeout(WRITE_TIMEOUT, stream.shutdown()).await;
}

/// Writes one answer; false if the machine cannot take it.
async fn write<S: AsyncWrite + Unpin>(stream: &mut S, answer: &[u8]) -> bool {
    let written = tokio::time::timeout(WRITE_TIMEOUT, async {
        stream.write_all(answer).await?;
        stream.flush().await
    })
    .await;
    match written {
        Ok(Ok(())) => true,
        Ok(Err(error)) => {
            tracing::debug!(%error, "writing a SIP2 answer failed");
            false
        }
        Err(_) => {
            tracing::info!("a SIP2 machine does not take its answer; closing the connection");
            false
        }
    }
}
