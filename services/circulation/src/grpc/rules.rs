//! `lectern.circulation.v1.CirculationRuleService`.

use lectern_core::identity::principal;
use lectern_proto::circulation::v1::circulation_rule_service_server::CirculationRuleService;
use lectern_proto::circulation::v1::{
    CirculationRule, CreateCirculationRuleRequest, DeleteCirculationRuleRequest,
    DeleteCirculationRuleResponse, GetCirculationRuleRequest, ListCirculationRulesRequest,
    ListCirculationRulesResponse, UpdateCirculationRuleRequest,
};
use tonic::{Request, Response, Status};

use crate::context::Circulation;
use crate::rules;

#[tonic::async_trait]
impl CirculationRuleService for Circulation {
    async fn list_circulation_rules(
        &self,
        request: Request<ListCirculationRulesRequest>,
    ) -> Result<Response<ListCirculationRulesResponse>, Status> {
        let caller = principal(&request)?;
        Ok(Response::new(rules::list_circulation_rules(self, &caller, request.into_inner()).await?))
    }

    async fn get_circulation_rule(
        &self,
        request: Request<GetCirculationRuleRequest>,
    ) -> Result<Response<CirculationRule>, Status> {
        let caller = principal(&request)?;
        Ok(Response::new(rules::get_circulation_rule(self, &caller, request.into_inner()).await?))
    }

    async fn create_circulation_rule(
        &self,
        request: Request<CreateCirculationRuleRequest>,
    ) -> Result<Response<CirculationRule>, Status> {
        let caller = principal(&request)?;
        Ok(Response::new(rules::create_circulation_rule(self, &caller, request.into_inner()).await?))
    }

    async fn update_circulation_rule(
        &self,
        request: Request<UpdateCirculationRuleRequest>,
    ) -> Result<Response<CirculationRule>, Status> {
        let caller = principal(&request)?;
        Ok(Response::new(rules::update_circulation_rule(self, &caller, request.into_inner()).await?))
    }

    async fn delete_circulation_rule(
        &self,
        request: Request<DeleteCirculationRuleRequest>,
    ) -> Result<Response<DeleteCirculationRuleResponse>, Status> {
        let caller = principal(&request)?;
        Ok(Response::new(rules::delete_circulation_rule(self, &caller, request.into_inner()).await?))
    }
}
