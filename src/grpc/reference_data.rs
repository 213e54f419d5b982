//! ReferenceDataService: which code-set releases are loaded.

use std::sync::Arc;

use tonic::{Request, Response, Status};

use crate::app::catalog::Catalog;
use crate::app::reference_data;
use crate::domain::limits::{self, Screen};
use crate::grpc::convert;
use crate::grpc::pb;
use crate::grpc::pb::reference_data_service_server::ReferenceDataService;

/// The ReferenceDataService implementation.
#[derive(Debug, Clone)]
pub struct ReferenceDataApi {
    catalog: Arc<Catalog>,
}

impl ReferenceDataApi {
    /// Serves from `catalog`.
    pub fn new(catalog: Arc<Catalog>) -> Self {
        Self { catalog }
    }
}

#[tonic::async_trait]
impl ReferenceDataService for ReferenceDataApi {
    async fn list_code_system_versions(
        &self,
        request: Request<pb::ListCodeSystemVersionsRequest>,
    ) -> Result<Response<pb::ListCodeSystemVersionsResponse>, Status> {
        let request = request.into_inner();
        let system = convert::optional_code_system_from_pb(request.system, "system")?;
        let page = reference_data::list_versions(
            &self.catalog,
            system,
            request.page_size,
            &request.page_token,
        )?;
        Ok(Response::new(pb::ListCodeSystemVersionsResponse {
            code_system_versions: page
                .versions
                .iter()
                .map(convert::code_system_version_to_pb)
                .collect(),
            next_page_token: page.next_page_token,
        }))
    }

    async fn get_code_system_version(
        &self,
        request: Request<pb::GetCodeSystemVersionRequest>,
    ) -> Result<Response<pb::GetCodeSystemVersionResponse>, Status> {
        let mut screen = Screen::new();
        screen.text("name", &request.get_ref().name, limits::TEXT_MAX);
        screen.finish()?;
        let version = reference_data::get_version(&self.catalog, &request.get_ref().name)?;
        Ok(Response::new(pb::GetCodeSystemVersionResponse {
            code_system_version: Some(convert::code_system_version_to_pb(&version)),
        }))
    }
}
