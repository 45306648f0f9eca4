//! WeChat sign-in at the gateway against a stand-in for WeChat's
//! `code2Session` (an HTTP server on loopback speaking the documented
//! request and answers): each of WeChat's refusals reaches the phone as a
//! reason it can act on, over gRPC and the JSON API; a slow WeChat costs
//! the phone the configured timeout and no more; without an app id the
//! call says so; the session key never reaches an answer; a first sign-in
//! gets a binding ticket and, once a card is bound, a reader token; and the
//! domain-verification file is served at the root.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http::{Method, StatusCode};
use http_body_util::{BodyExt as _, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use lectern_core::refusal::Reason;
use lectern_gateway::{Secret, WechatConfig};
use lectern_proto::gateway::v1::WechatSignInRequest;
use lectern_proto::gateway::v1::gateway_service_client::GatewayServiceClient;
use lectern_proto::reader::v1::family_service_client::FamilyServiceClient;
use lectern_proto::reader::v1::{
    BindReaderRequest, BindingRelation, FamilySignInResponse, SetReaderPinRequest,
};
use serde_json::{Value, json};
use tonic::{Code, Status};

use crate::harness::{TestSuite, assert_invalid, assert_refused};

const APP_ID: &str = "wx-suite-tests";
const APP_SECRET: &str = "app-secret-of-the-suite-tests";
/// What every session key the stand-in hands out contains.
const SESSION_KEY_MARK: &str = "SESSIONKEY";

/// One request's query, as `key=value` pairs.
type Query = Vec<(String, String)>;

/// The stand-in: every query it was sent.
#[derive(Clone, Default)]
struct Standin {
    queries: Arc<Mutex<Vec<Query>>>,
}

impl Standin {
    /// Serves on a free loopback port for the rest of the test; its base URL.
    async fn start(&self) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let standin = self.clone();
        let app = Router::new().route(
            "/sns/jscode2session",
            get(move |uri: Uri| {
                let standin = standin.clone();
                async move { standin.answer(&uri).await }
            }),
        );
        tokio::spawn(async move { axum::serve(listener, app).await });
        format!("http://{address}")
    }

    async fn answer(&self, uri: &Uri) -> Response {
        let query: Query = uri
            .query()
            .unwrap_or_default()
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .map(|(key, value)| (key.to_owned(), value.to_owned()))
            .collect();
        self.queries.lock().unwrap().push(query.clone());
        let get = |key: &str| query.iter().find(|(name, _)| name == key).map(|(_, value)| value.as_str());
        if get("appid") != Some(APP_ID) {
            return json!({"errcode": 40013, "errmsg": "invalid appid"}).to_string().into_response();
        }
        if get("secret") != Some(APP_SECRET) || get("grant_type") != Some("authorization_code") {
            return json!({"errcode": 40125, "errmsg": "invalid appsecret"}).to_string().into_response();
        }
        let code = get("js_code").unwrap_or_default();
        let error = |errcode: i64, errmsg: &str| json!({"errcode": errcode, "errmsg": errmsg}).to_string();
        let body = match code {
            "bad" => error(40029, "invalid code"),
            "used" => error(40163, "code been used"),
            "limited" => error(45011, "api minute-quota reach limit"),
            "blocked" => error(40226, "high risk user"),
            "busy" => error(-1, "system error"),
            // Never answers: the gateway must give up on its own.
            "slow" => std::future::pending().await,
            "garbage" => "<html>502 Bad Gateway</html>".to_owned(),
            "noopenid" => json!({"session_key": format!("{SESSION_KEY_MARK}-0")}).to_string(),
            "down" => return StatusCode::BAD_GATEWAY.into_response(),
            _ => match code.strip_prefix("ok-") {
                Some(name) => json!({
                    "openid": format!("o-{name}"),
                    "session_key": format!("{SESSION_KEY_MARK}-{name}"),
                    "unionid": format!("u-{name}"),
                })
                .to_string(),
                None => error(40029, "invalid code"),
            },
        };
        // WeChat labels its JSON text/plain.
        ([(http::header::CONTENT_TYPE, "text/plain")], body).into_response()
    }
}

/// A suite whose gateway asks the stand-in, giving up after `timeout`.
async fn suite_with_wechat(base: String, timeout: Duration) -> TestSuite {
    TestSuite::start_with(move |config| {
        config.wechat = WechatConfig {
            api_base: base,
            app_id: Some(APP_ID.to_owned()),
            app_secret: Some(Secret::new(APP_SECRET)),
            timeout,
            verification_files: None,
        };
    })
    .await
}

async fn sign_in(suite: &TestSuite, code: &str) -> Result<FamilySignInResponse, Status> {
    GatewayServiceClient::new(suite.channel.clone())
        .wechat_sign_in(WechatSignInRequest { code: code.into(), reader_id: String::new() })
        .await
        .map(tonic::Response::into_inner)
}

/// `POST /api/lectern.gateway.v1.GatewayService/WechatSignIn` with no token.
async fn sign_in_over_json(suite: &TestSuite, body: Value) -> (StatusCode, String) {
    let (status, body) = http_call(
        suite,
        Method::POST,
        "/api/lectern.gateway.v1.GatewayService/WechatSignIn",
        body.to_string(),
    )
    .await;
    (status, String::from_utf8_lossy(&body).into_owned())
}

async fn http_call(suite: &TestSuite, method: Method, path: &str, body: String) -> (StatusCode, Bytes) {
    let address = suite.suite.http_addr().expect("the suite serves HTTP");
    let client = Client::builder(TokioExecutor::new()).build_http();
    let request = http::Request::builder()
        .method(method)
        .uri(format!("http://{address}{path}"))
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body)))
        .unwrap();
    let response = client.request(request).await.unwrap();
    let status = response.status();
    (status, response.into_body().collect().await.unwrap().to_bytes())
}

#[tokio::test]
async fn wechat_refusals_reach_the_phone_as_reasons_it_can_act_on() {
    let standin = Standin::default();
    let base = standin.start().await;
    let suite = suite_with_wechat(base, Duration::from_millis(400)).await;

    let cases = [
        ("bad", Code::Unauthenticated, Reason::WechatCodeInvalid, StatusCode::UNAUTHORIZED),
        ("used", Code::Unauthenticated, Reason::WechatCodeInvalid, StatusCode::UNAUTHORIZED),
        ("limited", Code::ResourceExhausted, Reason::WechatRateLimited, StatusCode::TOO_MANY_REQUESTS),
        ("blocked", Code::PermissionDenied, Reason::WechatUserBlocked, StatusCode::FORBIDDEN),
        ("busy", Code::Unavailable, Reason::WechatUnavailable, StatusCode::SERVICE_UNAVAILABLE),
        ("garbage", Code::Unavailable, Reason::WechatUnavailable, StatusCode::SERVICE_UNAVAILABLE),
        ("noopenid", Code::Unavailable, Reason::WechatUnavailable, StatusCode::SERVICE_UNAVAILABLE),
        ("down", Code::Unavailable, Reason::WechatUnavailable, StatusCode::SERVICE_UNAVAILABLE),
    ];
    for (code, grpc_code, reason, http_status) in cases {
        let status = assert_refused(sign_in(&suite, code).await, grpc_code, reason);
        assert!(!status.message().contains(APP_SECRET), "{code}: {status:?}");
        let (answered, body) = sign_in_over_json(&suite, json!({"code": code})).await;
        assert_eq!(answered, http_status, "{code}: {body}");
        assert!(body.contains(reason.as_str_name()), "{code}: {body}");
        assert!(!body.contains(APP_SECRET) && !body.contains(SESSION_KEY_MARK), "{code}: {body}");
    }

    // The gateway asked as documented: its app id and secret, the code, the grant.
    let queries = standin.queries.lock().unwrap().clone();
    let first = &queries[0];
    for expected in
        [("appid", APP_ID), ("secret", APP_SECRET), ("js_code", "bad"), ("grant_type", "authorization_code")]
    {
        assert!(
            first.iter().any(|(key, value)| (key.as_str(), value.as_str()) == expected),
            "{expected:?} in {first:?}"
        );
    }
}

#[tokio::test]
async fn a_slow_wechat_costs_the_phone_the_timeout_and_no_more() {
    let standin = Standin::default();
    let base = standin.start().await;
    let suite = suite_with_wechat(base, Duration::from_millis(300)).await;
    let started = std::time::Instant::now();
    assert_refused(sign_in(&suite, "slow").await, Code::Unavailable, Reason::WechatUnavailable);
    assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());
}

#[tokio::test]
async fn a_wrong_app_id_or_none_at_all_says_wechat_is_not_set_up() {
    // No LECTERN_WECHAT_… at all.
    let suite = TestSuite::start().await;
    assert_refused(sign_in(&suite, "ok-ren").await, Code::FailedPrecondition, Reason::WechatNotConfigured);
    let (status, body) = sign_in_over_json(&suite, json!({"code": "ok-ren"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body.contains("WECHAT_NOT_CONFIGURED"), "{body}");
    // Bad input is named whether or not WeChat is set up.
    assert_invalid(sign_in(&suite, "").await, "code");
    assert_invalid(sign_in(&suite, "has spaces").await, "code");
    let wrong_reader = GatewayServiceClient::new(suite.channel.clone())
        .wechat_sign_in(WechatSignInRequest { code: "ok-ren".into(), reader_id: "R100002".into() })
        .await;
    assert_invalid(wrong_reader, "reader_id");
    let (status, body) = sign_in_over_json(&suite, json!({"code": ""})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body.contains("code"), "{body}");

    // An app id WeChat does not know: the district must fix its settings.
    let standin = Standin::default();
    let base = standin.start().await;
    let suite = TestSuite::start_with(move |config| {
        config.wechat = WechatConfig {
            api_base: base,
            app_id: Some("wx-someone-else".to_owned()),
            app_secret: Some(Secret::new(APP_SECRET)),
            ..WechatConfig::default()
        };
    })
    .await;
    assert_refused(sign_in(&suite, "ok-ren").await, Code::FailedPrecondition, Reason::WechatNotConfigured);
}

#[tokio::test]
async fn a_first_sign_in_gets_a_ticket_and_a_bound_card_a_reader_token_never_the_session_key() {
    let standin = Standin::default();
    let base = standin.start().await;
    let suite = suite_with_wechat(base, Duration::from_secs(5)).await;
    let school = suite.school("XH-PRI", "新华小学").await;
    let reader = suite.student(&school, "R300001").await;
    suite
        .readers()
        .set_reader_pin(suite.admin(SetReaderPinRequest { reader_id: reader.id.clone(), pin: "0001".into() }))
        .await
        .unwrap();

    let first = sign_in(&suite, "ok-ren").await.unwrap();
    assert!(first.login.is_none(), "nothing bound yet: {first:?}");
    assert!(!first.binding_ticket.is_empty());
    assert!(first.binding_ticket_expire_time.is_some());
    assert!(first.readers.is_empty());
    assert_no_session_key(&first);

    let bound = FamilyServiceClient::new(suite.channel.clone())
        .bind_reader(BindReaderRequest {
            binding_ticket: first.binding_ticket.clone(),
            card_barcode: "R300001".into(),
            pin: "0001".into(),
            relation: BindingRelation::Self_ as i32,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(bound.login.is_some());

    // The next time, the same WeChat user is signed in as the reader.
    let again = sign_in(&suite, "ok-ren").await.unwrap();
    let login = again.login.clone().expect("a reader token");
    assert_eq!(login.subject_id, reader.id);
    assert!(again.binding_ticket.is_empty());
    assert_eq!(
        again.readers.iter().map(|family| family.reader_id.as_str()).collect::<Vec<_>>(),
        [reader.id.as_str()]
    );
    assert_no_session_key(&again);
    let (status, body) = sign_in_over_json(&suite, json!({"code": "ok-ren"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("accessToken") && !body.contains(SESSION_KEY_MARK), "{body}");
    // Another WeChat user is not bound to the reader.
    let stranger = sign_in(&suite, "ok-stranger").await.unwrap();
    assert!(stranger.login.is_none() && stranger.readers.is_empty());
}

fn assert_no_session_key(answer: &FamilySignInResponse) {
    assert!(!format!("{answer:?}").contains(SESSION_KEY_MARK), "the session key reached the answer");
}

#[tokio::test]
async fn the_domain_verification_file_is_served_at_the_root() {
    let scratch = tempfile::tempdir().unwrap();
    let folder = scratch.path().to_path_buf();
    std::fs::write(folder.join("MP_verify_Ab12Cd34.txt"), "Ab12Cd34").unwrap();
    std::fs::write(folder.join("notes.md"), "private").unwrap();
    let served = folder.clone();
    let suite = TestSuite::start_with(move |config| {
        config.wechat = WechatConfig { verification_files: Some(served), ..WechatConfig::default() };
    })
    .await;
    let (status, body) = http_call(&suite, Method::GET, "/MP_verify_Ab12Cd34.txt", String::new()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(&body[..], b"Ab12Cd34");
    for missing in ["/MP_verify_other.txt", "/notes.md", "/..%2Fnotes.md"] {
        let (status, _) = http_call(&suite, Method::GET, missing, String::new()).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{missing}");
    }
    // The pages are still there.
    let (status, _) = http_call(&suite, Method::GET, "/signin", String::new()).await;
    assert_eq!(status, StatusCode::OK);
}
