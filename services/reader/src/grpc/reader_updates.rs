//! The desk's changes to a reader's record in `ReaderService`:
//! `UpdateReader` and `ReplaceReaderCard`. `readers.rs` routes the trait
//! methods here. Each change is audited with the fields it touched, never
//! their values.

use lectern_common::idempotency::Idempotent;
use lectern_core::access::Access;
use lectern_core::identity::Principal;
use lectern_core::{ids, validate};
use lectern_proto::reader::v1::{Reader, ReplaceReaderCardRequest, UpdateReaderRequest};
use tonic::Status;

use super::readers::{Readers, changed};
use crate::convert;
use crate::reader_updates::{self, ReaderChanges};

impl Readers {
    pub(super) async fn update(
        &self,
        caller: &Principal,
        request: UpdateReaderRequest,
    ) -> Result<Reader, Status> {
        caller.require(Access::STAFF)?;
        let reader_id = ids::parse_id("reader_id", &request.reader_id)?;
        let changes = ReaderChanges::from_request(&request)?;
        let request_id = validate::request_id("request_id", &request.request_id)?;
        self.require_reader_in_scope(caller, &reader_id).await?;
        let now = self.clock.now().naive_utc();
        let today = self.today();
        let caller = caller.clone();
        let answer = Idempotent::new("reader.UpdateReader", request_id)
            .write(&self.db, now, move |connection| {
                let (reader, fields) =
                    reader_updates::update_reader(connection, &reader_id, &changes, today)?;
                if !fields.is_empty() {
                    changed(
                        connection,
                        &caller,
                        &reader_id,
                        &format!("updated: {}", fields.join(", ")),
                        now,
                    )?;
                }
                Ok(convert::reader(reader))
            })
            .await?
            .into_inner();
        Ok(answer)
    }

    pub(super) async fn replace_card(
        &self,
        caller: &Principal,
        request: ReplaceReaderCardRequest,
    ) -> Result<Reader, Status> {
        caller.require(Access::STAFF)?;
        let reader_id = ids::parse_id("reader_id", &request.reader_id)?;
        let new_card = validate::barcode("new_card_barcode", &request.new_card_barcode)?;
        let request_id = validate::request_id("request_id", &request.request_id)?;
        self.require_reader_in_scope(caller, &reader_id).await?;
        let now = self.clock.now().naive_utc();
        let today = self.today();
        let caller = caller.clone();
        let answer = Idempotent::new("reader.ReplaceReaderCard", request_id)
            .write(&self.db, now, move |connection| {
                let reader = reader_updates::replace_card(connection, &reader_id, new_card, now, today)?;
                changed(connection, &caller, &reader_id, "card replaced", now)?;
                Ok(convert::reader(reader))
            })
            .await?
            .into_inner();
        Ok(answer)
    }
}
