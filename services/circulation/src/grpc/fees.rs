//! `lectern.circulation.v1.FeeService`.

use lectern_core::identity::principal;
use lectern_proto::circulation::v1::fee_service_server::FeeService;
use lectern_proto::circulation::v1::{
    ChargeFeeRequest, Fee, ListFeesRequest, ListFeesResponse, PayFeesRequest, PayFeesResponse,
    WaiveFeeRequest, WaiveFeesRequest, WaiveFeesResponse,
};
use tonic::{Request, Response, Status};

use crate::context::Circulation;
use crate::fees;

#[tonic::async_trait]
impl FeeService for Circulation {
    async fn list_fees(
        &self,
        request: Request<ListFeesRequest>,
    ) -> Result<Response<ListFeesResponse>, Status> {
        let caller = principal(&request)?;
        Ok(Response::new(fees::list_fees(self, &caller, request.into_inner()).await?))
    }

    async fn charge_fee(&self, request: Request<ChargeFeeRequest>) -> Result<Response<Fee>, Status> {
        let caller = principal(&request)?;
        Ok(Response::new(fees::charge_fee(self, &caller, request.into_inner()).await?))
    }

    async fn pay_fees(&self, request: Request<PayFeesRequest>) -> Result<Response<PayFeesResponse>, Status> {
        let caller = principal(&request)?;
        Ok(Response::new(fees::pay_fees(self, &caller, request.into_inner()).await?))
    }

    async fn waive_fee(&self, request: Request<WaiveFeeRequest>) -> Result<Response<Fee>, Status> {
        let caller = principal(&request)?;
        Ok(Response::new(fees::waive_fee(self, &caller, request.into_inner()).await?))
    }

    async fn waive_fees(
        &self,
        request: Request<WaiveFeesRequest>,
    ) -> Result<Response<WaiveFeesResponse>, Status> {
        let caller = principal(&request)?;
        Ok(Response::new(fees::waive_fees(self, &caller, request.into_inner()).await?))
    }
}
