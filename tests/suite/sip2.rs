//! The SIP2 edge over raw TCP, as self-check machines use it: login and
//! status, bad frames that never take the listener down, the cap on a
//! device's connections, lending only the device's school's copies, the
//! PIN lockout shared with every other sign-in, a check-out resent after
//! a lost answer, and fifty machines and fifty desks racing for one copy;
//! the patron's account (renew all, fee paid, holds, status), card-only
//! machines and the idle close.
//! The machine is a few lines of raw SIP2 in `sip2/machine.rs`.

mod account;
mod frames;
mod lending;
pub mod machine;
mod race;
mod sessions;

use std::net::SocketAddr;

use lectern_proto::reader::v1::{DeviceSettings, School, SetReaderPinRequest};

use crate::harness::TestSuite;

/// A suite with the primary school, a SIP2 machine registered there, and
/// the machine's way in.
pub struct Library {
    pub suite: TestSuite,
    pub school: School,
    pub device_id: String,
    pub key: String,
}

impl Library {
    pub async fn open() -> Self {
        Self::open_with(|_| {}).await
    }

    /// A library whose suite `configure` sets up.
    pub async fn open_with(configure: impl FnOnce(&mut lectern::suite::SuiteConfig)) -> Self {
        let suite = TestSuite::start_with(configure).await;
        let school = suite.school("XH-PRI", "徐汇区实验小学").await;
        let (device_id, key) = machine_of(&suite, &school.id, None).await;
        Self { suite, school, device_id, key }
    }

    /// Where machines connect.
    pub fn address(&self) -> SocketAddr {
        self.suite.suite.sip2_addr().expect("the suite listens for SIP2")
    }

    /// A machine logged in as the library's device.
    pub async fn machine(&self) -> machine::Machine {
        machine::Machine::logged_in(self.address(), &self.device_id, &self.key).await
    }

    /// A student of `school` with `pin`.
    pub async fn reader(&self, school: &School, card: &str, pin: &str) -> lectern_proto::reader::v1::Reader {
        let reader = self.suite.student(school, card).await;
        self.suite
            .readers()
            .set_reader_pin(
                self.suite.admin(SetReaderPinRequest { reader_id: reader.id.clone(), pin: pin.into() }),
            )
            .await
            .expect("PIN set");
        reader
    }
}

/// Registers a SIP2 machine at `school_id`; its id and key.
pub async fn machine_of(
    suite: &TestSuite,
    school_id: &str,
    settings: Option<DeviceSettings>,
) -> (String, String) {
    let created = suite.sip2_device(school_id, settings).await;
    (created.device.expect("the device").id, created.key)
}
