//! The tower layer that authenticates every call a server receives, before
//! any handler runs. Health checks, reflection and the methods a server
//! names as public (sign-in, verification keys) pass without a token.

use std::sync::Arc;
use std::task::{Context, Poll};

use futures::future::BoxFuture;
use http::{Request, Response};
use tonic::body::Body;
use tower::{Layer, Service};

use super::verifier::{TokenError, TokenVerifier};
use crate::refusal::{Reason, Refusal};

/// Full method paths (`/package.Service/Method`) that need no token.
#[derive(Debug, Clone, Default)]
pub struct PublicMethods(Arc<Vec<String>>);

impl PublicMethods {
    /// These methods need no token.
    pub fn new(paths: impl IntoIterator<Item = impl Into<String>>) -> Self {
        Self(Arc::new(paths.into_iter().map(Into::into).collect()))
    }

    fn contains(&self, path: &str) -> bool {
        path.starts_with("/grpc.health.v1.")
            || path.starts_with("/grpc.reflection.")
            || self.0.iter().any(|public| public == path)
    }
}

/// Methods a token restricted to a password change may still call.
const PASSWORD_CHANGE_PATHS: &[&str] =
    &["/lectern.reader.v1.IdentityService/ChangePassword", "/lectern.gateway.v1.GatewayService/WhoAmI"];

/// Authenticates calls with a [`TokenVerifier`].
#[derive(Debug, Clone)]
pub struct AuthLayer {
    verifier: TokenVerifier,
    public: PublicMethods,
}

impl AuthLayer {
    /// Verifies with `verifier`; `public` methods pass without a token.
    pub fn new(verifier: TokenVerifier, public: PublicMethods) -> Self {
        Self { verifier, public }
    }
}

impl<S> Layer<S> for AuthLayer {
    type Service = AuthService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        AuthService { inner, verifier: self.verifier.clone(), public: self.public.clone() }
    }
}

/// The service [`AuthLayer`] wraps around a server's routes.
#[derive(Debug, Clone)]
pub struct AuthService<S> {
    inner: S,
    verifier: TokenVerifier,
    public: PublicMethods,
}

fn refuse(reason: Reason, message: String) -> Response<Body> {
    let status: tonic::Status = Refusal::new(reason, message).into();
    status.into_http()
}

impl<S> Service<Request<Body>> for AuthService<S>
where
    S: Service<Request<Body>, Response = Response<Body>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Response<Body>, S::Error>>;

    fn poll_ready(&mut self, context: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(context)
    }

    fn call(&mut self, mut request: Request<Body>) -> Self::Future {
        // The clone is ready-polled by the caller's contract on `self`; swap
        // so the ready instance handles this request.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let path = request.uri().path().to_owned();
        if self.public.contains(&path) {
            return Box::pin(inner.call(request));
        }
        let verifier = self.verifier.clone();
        let token = bearer_token(&request);
        Box::pin(async move {
            let token = match token {
                Some(token) => token,
                None => {
                    return Ok(refuse(Reason::TokenInvalid, TokenError::Missing.to_string()));
                }
            };
            let principal = match verifier.verify(&token).await {
                Ok(principal) => principal,
                Err(TokenError::KeysUnavailable(detail)) => {
                    tracing::warn!(%detail, "cannot fetch token verification keys");
                    return Ok(tonic::Status::unavailable(
                        "cannot verify the sign-in right now, try again shortly",
                    )
                    .into_http());
                }
                Err(TokenError::SessionEnded) => {
                    return Ok(refuse(Reason::SessionEnded, TokenError::SessionEnded.to_string()));
                }
                Err(error) => {
                    return Ok(refuse(Reason::TokenInvalid, error.to_string()));
                }
            };
            if principal.password_change_required && !PASSWORD_CHANGE_PATHS.contains(&path.as_str()) {
                return Ok(refuse(
                    Reason::PasswordChangeRequired,
                    "choose a new password first (IdentityService/ChangePassword)".to_owned(),
                ));
            }
            tracing::Span::current().record("principal", principal.log_label());
            request.extensions_mut().insert(principal);
            inner.call(request).await
        })
    }
}

/// The token of a request's `authorization: Bearer …` header.
fn bearer_token<B>(request: &Request<B>) -> Option<String> {
    bearer(request.headers().get(http::header::AUTHORIZATION)?.to_str().ok()?)
}

/// The token of an `authorization` header value `Bearer <token>` (the
/// scheme in any case); `None` for another scheme or an empty token.
pub fn bearer(value: &str) -> Option<String> {
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then(|| token.to_owned())
}

#[cfg(test)]
mod tests {
    use super::bearer;

    #[test]
    fn a_bearer_header_gives_its_token_and_nothing_else_does() {
        assert_eq!(bearer("Bearer abc.def").as_deref(), Some("abc.def"));
        assert_eq!(bearer("bearer  abc ").as_deref(), Some("abc"));
        assert_eq!(bearer("Basic abc"), None);
        assert_eq!(bearer("Bearer "), None);
        assert_eq!(bearer("Bearer"), None);
    }
}
