//! The styles and script of the pages, embedded in the binary: nothing is
//! fetched from elsewhere, and a school network without internet works.

use axum::extract::Path;
use axum::response::{IntoResponse, Response};
use http::header::{CACHE_CONTROL, CONTENT_TYPE};
use http::{HeaderValue, StatusCode};

/// The one stylesheet, from one file per group of screens (the frame and
/// forms first, print last so it overrides the screen's look).
pub const STYLESHEET: &str = concat!(
    include_str!("../../assets/lectern.css"),
    include_str!("../../assets/css/desk.css"),
    include_str!("../../assets/css/search.css"),
    include_str!("../../assets/css/readers.css"),
    include_str!("../../assets/css/lists.css"),
    include_str!("../../assets/css/notices.css"),
    include_str!("../../assets/css/print.css"),
);

/// The embedded files: name, content type, bytes.
const ASSETS: &[(&str, &str, &[u8])] = &[
    ("lectern.css", "text/css; charset=utf-8", STYLESHEET.as_bytes()),
    ("lectern.js", "text/javascript; charset=utf-8", include_bytes!("../../assets/lectern.js")),
    ("kiosk.css", "text/css; charset=utf-8", include_bytes!("../../assets/css/kiosk.css")),
    ("kiosk.js", "text/javascript; charset=utf-8", include_bytes!("../../assets/js/kiosk.js")),
    ("portal.css", "text/css; charset=utf-8", include_bytes!("../../assets/css/portal.css")),
];

/// `GET /assets/{file}`.
pub async fn serve(Path(file): Path<String>) -> Response {
    let Some((_, content_type, bytes)) = ASSETS.iter().find(|(name, _, _)| *name == file) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    (
        [
            (CONTENT_TYPE, HeaderValue::from_static(content_type)),
            // Not personal; an hour keeps a kiosk quick without stale styles for long.
            (CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600")),
        ],
        *bytes,
    )
        .into_response()
}
