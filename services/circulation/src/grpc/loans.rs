//! `lectern.circulation.v1.LoanService`.

use lectern_core::identity::principal;
use lectern_proto::circulation::v1::loan_service_server::LoanService;
use lectern_proto::circulation::v1::{
    BatchGetLoansRequest, BatchGetLoansResponse, ChangeDueDateRequest, CheckInRequest, CheckInResponse,
    CheckOutExplanation, CheckOutRequest, CheckOutResponse, ClaimReturnedRequest, DeclareLostRequest,
    DeclareLostResponse, DeskStatistics, ExplainCheckOutRequest, GetDeskStatisticsRequest, GetLoanRequest,
    GetReaderObligationsRequest, GetReaderReadingReportRequest, GetReaderSummaryRequest,
    GetReadingReportRequest, ListLoansRequest, ListLoansResponse, ListOverdueLoansRequest,
    ListTransitsRequest, ListTransitsResponse, Loan, ReaderObligations, ReaderReadingReport, ReaderSummary,
    ReadingReport, RenewAllRequest, RenewAllResponse, RenewRequest, RenewResponse,
};
use tonic::{Request, Response, Status};

use crate::context::Circulation;
use crate::{checkin, checkout, loan_changes, loans, reader_report, renewal, reports, statistics, summary};

#[tonic::async_trait]
impl LoanService for Circulation {
    async fn check_out(
        &self,
        request: Request<CheckOutRequest>,
    ) -> Result<Response<CheckOutResponse>, Status> {
        let caller = principal(&request)?;
        let answer = checkout::check_out(self, &caller, request.into_inner()).await?;
        Ok(Response::new(answer.into_inner()))
    }

    async fn explain_check_out(
        &self,
        request: Request<ExplainCheckOutRequest>,
    ) -> Result<Response<CheckOutExplanation>, Status> {
        let caller = principal(&request)?;
        Ok(Response::new(checkout::explain_check_out(self, &caller, request.into_inner()).await?))
    }

    async fn check_in(&self, request: Request<CheckInRequest>) -> Result<Response<CheckInResponse>, Status> {
        let caller = principal(&request)?;
        let answer = checkin::check_in(self, &caller, request.into_inner()).await?;
        Ok(Response::new(answer.into_inner()))
    }

    async fn renew(&self, request: Request<RenewRequest>) -> Result<Response<RenewResponse>, Status> {
        let caller = principal(&request)?;
        Ok(Response::new(renewal::renew(self, &caller, request.into_inner()).await?))
    }

    async fn renew_all(
        &self,
        request: Request<RenewAllRequest>,
    ) -> Result<Response<RenewAllResponse>, Status> {
        let caller = principal(&request)?;
        Ok(Response::new(renewal::renew_all(self, &caller, request.into_inner()).await?))
    }

    async fn declare_lost(
        &self,
        request: Request<DeclareLostRequest>,
    ) -> Result<Response<DeclareLostResponse>, Status> {
        let caller = principal(&request)?;
        Ok(Response::new(loan_changes::declare_lost(self, &caller, request.into_inner()).await?))
    }

    async fn claim_returned(&self, request: Request<ClaimReturnedRequest>) -> Result<Response<Loan>, Status> {
        let caller = principal(&request)?;
        Ok(Response::new(loan_changes::claim_returned(self, &caller, request.into_inner()).await?))
    }

    async fn change_due_date(
        &self,
        request: Request<ChangeDueDateRequest>,
    ) -> Result<Response<Loan>, Status> {
        let caller = principal(&request)?;
        Ok(Response::new(loan_changes::change_due_date(self, &caller, request.into_inner()).await?))
    }

    async fn get_loan(&self, request: Request<GetLoanRequest>) -> Result<Response<Loan>, Status> {
        let caller = principal(&request)?;
        Ok(Response::new(loans::get_loan(self, &caller, request.into_inner()).await?))
    }

    async fn batch_get_loans(
        &self,
        request: Request<BatchGetLoansRequest>,
    ) -> Result<Response<BatchGetLoansResponse>, Status> {
        let caller = principal(&request)?;
        Ok(Response::new(loans::batch_get_loans(self, &caller, request.into_inner()).await?))
    }

    async fn list_loans(
        &self,
        request: Request<ListLoansRequest>,
    ) -> Result<Response<ListLoansResponse>, Status> {
        let caller = principal(&request)?;
        Ok(Response::new(loans::list_loans(self, &caller, request.into_inner()).await?))
    }

    async fn list_overdue_loans(
        &self,
        request: Request<ListOverdueLoansRequest>,
    ) -> Result<Response<ListLoansResponse>, Status> {
        let caller = principal(&request)?;
        Ok(Response::new(loans::list_overdue_loans(self, &caller, request.into_inner()).await?))
    }

    async fn list_transits(
        &self,
        request: Request<ListTransitsRequest>,
    ) -> Result<Response<ListTransitsResponse>, Status> {
        let caller = principal(&request)?;
        Ok(Response::new(loans::list_transits(self, &caller, request.into_inner()).await?))
    }

    async fn get_reader_summary(
        &self,
        request: Request<GetReaderSummaryRequest>,
    ) -> Result<Response<ReaderSummary>, Status> {
        let caller = principal(&request)?;
        Ok(Response::new(summary::get_reader_summary(self, &caller, request.into_inner()).await?))
    }

    async fn get_reader_obligations(
        &self,
        request: Request<GetReaderObligationsRequest>,
    ) -> Result<Response<ReaderObligations>, Status> {
        let caller = principal(&request)?;
        Ok(Response::new(loans::get_reader_obligations(self, &caller, request.into_inner()).await?))
    }

    async fn get_reading_report(
        &self,
        request: Request<GetReadingReportRequest>,
    ) -> Result<Response<ReadingReport>, Status> {
        let caller = principal(&request)?;
        Ok(Response::new(reports::get_reading_report(self, &caller, request.into_inner()).await?))
    }

    async fn get_reader_reading_report(
        &self,
        request: Request<GetReaderReadingReportRequest>,
    ) -> Result<Response<ReaderReadingReport>, Status> {
        let caller = principal(&request)?;
        Ok(Response::new(
            reader_report::get_reader_reading_report(self, &caller, request.into_inner()).await?,
        ))
    }

    async fn get_desk_statistics(
        &self,
        request: Request<GetDeskStatisticsRequest>,
    ) -> Result<Response<DeskStatistics>, Status> {
        let caller = principal(&request)?;
        Ok(Response::new(statistics::get_desk_statistics(self, &caller, request.into_inner()).await?))
    }
}
