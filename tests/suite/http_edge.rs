//! The gateway's HTTP edge, on both backends: a check-out over the JSON API
//! is the same as over gRPC, bad input changes nothing, a browser's session
//! is renewed once for requests sent together, and cookie requests need
//! the page's CSRF token.

use http::header::{CONTENT_TYPE, SET_COOKIE};
use http::{HeaderMap, Method, StatusCode};
use http_body_util::{BodyExt as _, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use lectern_proto::circulation::v1::ListLoansRequest;
use serde_json::{Value, json};

use crate::harness::{ADMIN_PASSWORD, TestSuite};

/// A browser or phone talking to the HTTP edge.
struct Http {
    client: Client<HttpConnector, Full<Bytes>>,
    base: String,
}

/// One answer.
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|_| panic!("not JSON: {:?}", self.body))
    }

    /// The value a `Set-Cookie` of this answer gives cookie `name`.
    fn cookie(&self, name: &str) -> Option<String> {
        self.headers.get_all(SET_COOKIE).iter().find_map(|value| {
            let value = value.to_str().ok()?;
            let (pair, _) = value.split_once(';')?;
            let (key, value) = pair.split_once('=')?;
            (key == name).then(|| value.to_owned())
        })
    }
}

impl Http {
    fn to(suite: &TestSuite) -> Self {
        let address = suite.suite.http_addr().expect("the suite serves HTTP");
        Self { client: Client::builder(TokioExecutor::new()).build_http(), base: format!("http://{address}") }
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: impl Into<Bytes>,
    ) -> Answer {
        let mut request = http::Request::builder().method(method).uri(format!("{}{path}", self.base));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = self.client.request(request.body(Full::new(body.into())).unwrap()).await.unwrap();
        let (parts, body) = response.into_parts();
        Answer {
            status: parts.status,
            headers: parts.headers,
            body: body.collect().await.unwrap().to_bytes(),
        }
    }

    /// `POST /api/{method}` with a JSON body and a bearer token.
    async fn call(&self, method: &str, token: &str, body: Value) -> Answer {
        let bearer = format!("Bearer {token}");
        let headers = [("content-type", "application/json"), ("authorization", bearer.as_str())];
        self.send(Method::POST, &format!("/api/{method}"), &headers, body.to_string()).await
    }

    /// Signs in at the sign-in page as a browser does; returns the
    /// browser's cookies (`name=value; …`) and its CSRF token.
    async fn browser_sign_in(&self, username: &str, password: &str) -> (String, String) {
        let page = self.send(Method::GET, "/signin", &[], Bytes::new()).await;
        let csrf = page.cookie("lectern_csrf").expect("the sign-in page gives a CSRF token");
        let form = format!("username={username}&password={}&csrf={csrf}", password.replace(' ', "+"));
        let cookie = format!("lectern_csrf={csrf}");
        let headers = [("content-type", "application/x-www-form-urlencoded"), ("cookie", cookie.as_str())];
        let signed_in = self.send(Method::POST, "/signin/staff", &headers, form).await;
        assert_eq!(signed_in.status, StatusCode::SEE_OTHER, "{:?}", signed_in.body);
        let session = signed_in.cookie("lectern_session").expect("a session cookie");
        let csrf = signed_in.cookie("lectern_csrf").expect("a new CSRF token at sign-in");
        (format!("lectern_session={session}; lectern_csrf={csrf}"), csrf)
    }

    /// `POST /api/{method}` as a page script: the cookie and the CSRF header.
    async fn page_call(&self, method: &str, cookies: &str, csrf: Option<&str>, body: Value) -> Answer {
        let mut headers = vec![("content-type", "application/json"), ("cookie", cookies)];
        if let Some(csrf) = csrf {
            headers.push(("x-csrf-token", csrf));
        }
        self.send(Method::POST, &format!("/api/{method}"), &headers, body.to_string()).await
    }
}

const CHECK_OUT: &str = "lectern.circulation.v1.LoanService/CheckOut";
const WHO_AM_I: &str = "lectern.gateway.v1.GatewayService/WhoAmI";

/// A school with a student (card S1) and a copy (C1) on the shelf; the
/// student's id.
async fn a_library(suite: &TestSuite) -> String {
    let school = suite.school("XH-PRI", "徐汇区实验小学").await;
    let student = suite.student(&school, "S1").await;
    let title = suite.title("9787534687983", "草房子", "曹文轩").await;
    suite.copy(&title, &school, "C1").await;
    student.id
}

/// The student's open loans.
async fn open_loans(suite: &TestSuite, reader_id: &str) -> usize {
    suite
        .loans()
        .list_loans(suite.admin(ListLoansRequest { reader_id: reader_id.into(), ..Default::default() }))
        .await
        .unwrap()
        .into_inner()
        .loans
        .len()
}

#[tokio::test]
async fn a_check_out_over_json_lends_as_grpc_does_and_refuses_the_same_way() {
    let suite = TestSuite::start().await;
    let student = a_library(&suite).await;
    let http = Http::to(&suite);
    let body = json!({"readerCardBarcode": "S1", "copyBarcode": "C1", "requestId": "0193a4c2-0000-7000-8000-000000000001"});
    let lent = http.call(CHECK_OUT, &suite.admin_token, body.clone()).await;
    assert_eq!(lent.status, StatusCode::OK, "{:?}", lent.body);
    assert_eq!(lent.headers[CONTENT_TYPE], "application/json");
    let loan = &lent.json()["loan"];
    assert_eq!(loan["copyBarcode"], "C1");
    assert!(loan["dueDate"].as_str().is_some_and(|due| !due.is_empty()), "{loan}");
    assert_eq!(open_loans(&suite, &student).await, 1);
    // The same request id again: the first answer, nothing lent twice.
    let again = http.call(CHECK_OUT, &suite.admin_token, body).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.json()["loan"]["id"], loan["id"]);
    // Another check-out of the copy is refused with the reason a desk shows.
    let refused = http
        .call(CHECK_OUT, &suite.admin_token, json!({"readerCardBarcode": "S1", "copyBarcode": "C1"}))
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_eq!(refused.json()["code"], "failed_precondition");
    assert_eq!(refused.json()["reason"], "COPY_ALREADY_ON_LOAN");
    assert_eq!(open_loans(&suite, &student).await, 1);
}

#[tokio::test]
async fn bad_input_is_refused_with_its_status_and_changes_nothing() {
    let suite = TestSuite::start().await;
    let student = a_library(&suite).await;
    let http = Http::to(&suite);
    let token = format!("Bearer {}", suite.admin_token);
    let json_headers = [("content-type", "application/json"), ("authorization", token.as_str())];
    let path = format!("/api/{CHECK_OUT}");

    let malformed = http.send(Method::POST, &path, &json_headers, "{\"copyBarcode\": ").await;
    assert_eq!(
        (malformed.status, malformed.json()["code"].clone()),
        (StatusCode::BAD_REQUEST, json!("invalid_argument"))
    );
    let wrong_type =
        http.call(CHECK_OUT, &suite.admin_token, json!({"readerCardBarcode": "S1", "copyBarcode": 5})).await;
    assert_eq!(wrong_type.status, StatusCode::BAD_REQUEST);
    assert_eq!(wrong_type.json()["field"], "copyBarcode");
    let missing = http.call(CHECK_OUT, &suite.admin_token, json!({"readerCardBarcode": "S1"})).await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    assert_eq!(missing.json()["field"], "copyBarcode", "named as the JSON names it");
    let unknown = http
        .send(Method::POST, "/api/lectern.circulation.v1.LoanService/LendEverything", &json_headers, "{}")
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    let internal =
        http.send(Method::POST, "/api/lectern.events.v1.EventSink/Deliver", &json_headers, "{}").await;
    assert_eq!(internal.status, StatusCode::NOT_FOUND, "internal services are not exposed");
    let wrong_method = http.send(Method::GET, &path, &[], Bytes::new()).await;
    assert_eq!(wrong_method.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(wrong_method.headers["allow"], "POST");
    let text = http
        .send(Method::POST, &path, &[("content-type", "text/plain"), ("authorization", &token)], "S1 C1")
        .await;
    assert_eq!(text.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let huge = format!(
        "{{\"readerCardBarcode\": \"S1\", \"copyBarcode\": \"C1\", \"requestId\": \"{}\"}}",
        "x".repeat(2 << 20)
    );
    let too_large = http.send(Method::POST, &path, &json_headers, huge).await;
    assert_eq!(too_large.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(too_large.json()["code"], "resource_exhausted");
    let no_token = http
        .send(
            Method::POST,
            &path,
            &[("content-type", "application/json")],
            r#"{"readerCardBarcode":"S1","copyBarcode":"C1"}"#,
        )
        .await;
    assert_eq!(no_token.status, StatusCode::UNAUTHORIZED);
    assert_eq!(no_token.json()["reason"], "TOKEN_INVALID");
    let garbage =
        http.call(CHECK_OUT, "not-a-token", json!({"readerCardBarcode": "S1", "copyBarcode": "C1"})).await;
    assert_eq!(garbage.status, StatusCode::UNAUTHORIZED);
    assert_eq!(open_loans(&suite, &student).await, 0, "nothing was lent");
}

#[tokio::test]
async fn requests_with_the_session_cookie_need_the_pages_csrf_token() {
    let suite = TestSuite::start().await;
    let student = a_library(&suite).await;
    let http = Http::to(&suite);
    let (cookies, csrf) = http.browser_sign_in("admin", ADMIN_PASSWORD).await;
    let body = json!({"readerCardBarcode": "S1", "copyBarcode": "C1"});
    for token in [None, Some("forged")] {
        let refused = http.page_call(CHECK_OUT, &cookies, token, body.clone()).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        assert_eq!(refused.json()["reason"], "CSRF_TOKEN_INVALID");
    }
    assert_eq!(open_loans(&suite, &student).await, 0, "nothing was lent");
    let lent = http.page_call(CHECK_OUT, &cookies, Some(&csrf), body).await;
    assert_eq!(lent.status, StatusCode::OK, "{:?}", lent.body);
    assert_eq!(open_loans(&suite, &student).await, 1);
}

#[tokio::test]
async fn requests_sent_together_renew_the_session_once_and_a_copied_cookie_ends_it_later() {
    let suite = TestSuite::start().await;
    let http = Http::to(&suite);
    let (cookies, csrf) = http.browser_sign_in("admin", ADMIN_PASSWORD).await;
    // Near the end of the access token's hour, every request renews.
    suite.clock.advance(chrono::Duration::minutes(58));
    let together =
        futures::future::join_all((0..8).map(|_| http.page_call(WHO_AM_I, &cookies, Some(&csrf), json!({}))))
            .await;
    let mut renewed = std::collections::BTreeSet::new();
    for answer in &together {
        assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
        assert_eq!(answer.json()["role"], "district_admin");
        renewed.insert(answer.cookie("lectern_session").expect("each answer carries the renewed session"));
    }
    let refresh_tokens: std::collections::BTreeSet<_> =
        renewed.iter().map(|value| value.split('~').nth(1).unwrap().to_owned()).collect();
    assert_eq!(refresh_tokens.len(), 1, "one renewal, one new refresh token: {refresh_tokens:?}");
    let new_cookies = format!("lectern_session={}; lectern_csrf={csrf}", renewed.first().unwrap());
    let still_in = http.page_call(WHO_AM_I, &new_cookies, Some(&csrf), json!({})).await;
    assert_eq!(still_in.status, StatusCode::OK);
    assert!(still_in.cookie("lectern_session").is_none(), "a fresh token is not renewed again");

    // The old cookie, copied elsewhere and used after the grace, is a
    // stolen refresh token: the session ends for everyone.
    suite.clock.advance(chrono::Duration::minutes(3));
    let stolen = http.page_call(WHO_AM_I, &cookies, Some(&csrf), json!({})).await;
    assert_eq!(stolen.status, StatusCode::UNAUTHORIZED);
    assert_eq!(stolen.cookie("lectern_session").as_deref(), Some(""), "the cookie is cleared");
    crate::harness::eventually(
        std::time::Duration::from_secs(10),
        "the renewed session to end too",
        || async {
            let answer = http.page_call(WHO_AM_I, &new_cookies, Some(&csrf), json!({})).await;
            (answer.status == StatusCode::UNAUTHORIZED).then_some(())
        },
    )
    .await;
}

#[tokio::test]
async fn a_one_time_password_is_changed_at_the_first_browser_sign_in() {
    let suite = TestSuite::start_fresh().await;
    let http = Http::to(&suite);
    let page = http.send(Method::GET, "/signin", &[], Bytes::new()).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(String::from_utf8_lossy(&page.body).contains("lang=\"zh-CN\""));
    let csrf = page.cookie("lectern_csrf").unwrap();
    let cookie = format!("lectern_csrf={csrf}");
    let form = format!("username=admin&password={}&csrf={csrf}", suite.one_time_password);
    let headers = [("content-type", "application/x-www-form-urlencoded"), ("cookie", cookie.as_str())];
    let signed_in = http.send(Method::POST, "/signin/staff", &headers, form).await;
    assert_eq!(signed_in.headers["location"], "/password");
    let cookies = format!(
        "lectern_session={}; lectern_csrf={}",
        signed_in.cookie("lectern_session").unwrap(),
        signed_in.cookie("lectern_csrf").unwrap()
    );
    let csrf = signed_in.cookie("lectern_csrf").unwrap();
    let home = http.send(Method::GET, "/", &[("cookie", &cookies)], Bytes::new()).await;
    assert_eq!(home.headers["location"], "/password", "nothing before the password is changed");
    let headers = [("content-type", "application/x-www-form-urlencoded"), ("cookie", cookies.as_str())];
    let form = format!(
        "current_password={}&new_password=my+own+new+password&new_password_again=my+own+new+password&csrf={csrf}",
        suite.one_time_password
    );
    let changed = http.send(Method::POST, "/password", &headers, form).await;
    assert_eq!(changed.headers["location"], "/?password_changed=1", "{:?}", changed.body);
    let cookies =
        format!("lectern_session={}; lectern_csrf={csrf}", changed.cookie("lectern_session").unwrap());
    // A new district has no school yet, so no desk: the admin's account
    // page, with what was just done.
    let home = http.send(Method::GET, "/?password_changed=1", &[("cookie", &cookies)], Bytes::new()).await;
    assert_eq!(home.headers["location"], "/account?password_changed=1");
    let home =
        http.send(Method::GET, "/account?password_changed=1", &[("cookie", &cookies)], Bytes::new()).await;
    assert_eq!(home.status, StatusCode::OK);
    let html = String::from_utf8_lossy(&home.body);
    assert!(html.contains("学区管理员"), "{html}");
    assert!(html.contains("notice-success"), "{html}");
}

#[tokio::test]
async fn every_answer_has_the_security_headers() {
    let suite = TestSuite::start().await;
    let http = Http::to(&suite);
    for path in ["/signin", "/api/openapi.json", "/no-such-page"] {
        let answer = http.send(Method::GET, path, &[], Bytes::new()).await;
        let csp = answer.headers["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"), "{path}: {csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}");
        assert_eq!(answer.headers["x-frame-options"], "DENY", "{path}");
        assert_eq!(answer.headers["cache-control"], "no-store", "{path}");
    }
    let missing = http.send(Method::GET, "/no-such-page", &[], Bytes::new()).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let document = http.send(Method::GET, "/api/openapi.json", &[], Bytes::new()).await;
    let document = document.json();
    assert_eq!(document["openapi"], "3.1.0");
    assert!(document["paths"]["/api/lectern.circulation.v1.LoanService/CheckOut"]["post"].is_object());
}
