//! `lectern.circulation.v1.HoldService`.

use lectern_core::identity::principal;
use lectern_proto::circulation::v1::hold_service_server::HoldService;
use lectern_proto::circulation::v1::{
    CancelHoldRequest, Hold, ListHoldShelfRequest, ListHoldShelfResponse, ListHoldsRequest,
    ListHoldsResponse, ListPullListRequest, ListPullListResponse, PlaceHoldRequest,
};
use tonic::{Request, Response, Status};

use crate::context::Circulation;
use crate::holds;

#[tonic::async_trait]
impl HoldService for Circulation {
    async fn place_hold(&self, request: Request<PlaceHoldRequest>) -> Result<Response<Hold>, Status> {
        let caller = principal(&request)?;
        Ok(Response::new(holds::place_hold(self, &caller, request.into_inner()).await?))
    }

    async fn cancel_hold(&self, request: Request<CancelHoldRequest>) -> Result<Response<Hold>, Status> {
        let caller = principal(&request)?;
        Ok(Response::new(holds::cancel_hold(self, &caller, request.into_inner()).await?))
    }

    async fn list_holds(
        &self,
        request: Request<ListHoldsRequest>,
    ) -> Result<Response<ListHoldsResponse>, Status> {
        let caller = principal(&request)?;
        Ok(Response::new(holds::list_holds(self, &caller, request.into_inner()).await?))
    }

    async fn list_pull_list(
        &self,
        request: Request<ListPullListRequest>,
    ) -> Result<Response<ListPullListResponse>, Status> {
        let caller = principal(&request)?;
        Ok(Response::new(holds::list_pull_list(self, &caller, request.into_inner()).await?))
    }

    async fn list_hold_shelf(
        &self,
        request: Request<ListHoldShelfRequest>,
    ) -> Result<Response<ListHoldShelfResponse>, Status> {
        let caller = principal(&request)?;
        Ok(Response::new(holds::list_hold_shelf(self, &caller, request.into_inner()).await?))
    }
}
