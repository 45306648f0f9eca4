//! WeChat's domain-verification files. Before a mini-program's `web-view`
//! may open the portal, WeChat checks the business domain by fetching a
//! file it hands the school (`MP_verify_<random>.txt`) at the root of the
//! domain. The operator drops such files in the folder
//! `LECTERN_WECHAT_VERIFY_FILES` names; this layer answers `GET /<name>`
//! with them and hands every other request on, so no route of the pages is
//! shadowed. Only plain `.txt` names directly in the folder are served, so
//! no request can reach any other file.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::header::{CACHE_CONTROL, CONTENT_TYPE};
use http::{HeaderValue, Method};

/// The largest verification file served; WeChat's hold a few dozen bytes.
const MAX_FILE_BYTES: u64 = 4096;

/// The folder of verification files.
#[derive(Debug, Clone)]
pub struct VerificationFiles(Arc<PathBuf>);

impl VerificationFiles {
    /// Serves the files of `folder`.
    pub fn new(folder: PathBuf) -> Self {
        Self(Arc::new(folder))
    }
}

/// The file name a request path asks for, if it may be a verification
/// file: one path segment of letters, digits, `_` and `-`, ending in `.txt`.
pub fn file_name(path: &str) -> Option<&str> {
    let name = path.strip_prefix('/')?;
    let stem = name.strip_suffix(".txt")?;
    let plain = !stem.is_empty()
        && name.len() <= 128
        && stem.bytes().all(|byte| byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'-');
    plain.then_some(name)
}

/// The layer: a verification file when there is one, else the pages.
pub async fn serve(State(files): State<VerificationFiles>, request: Request, next: Next) -> Response {
    let wanted = matches!(*request.method(), Method::GET | Method::HEAD);
    let name = if wanted { file_name(request.uri().path()) } else { None };
    if let Some(name) = name
        && let Some(text) = read(&files.0, name).await
    {
        return (
            [
                (CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8")),
                (CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            ],
            text,
        )
            .into_response();
    }
    next.run(request).await
}

/// The file `name` of `folder`, if it is a small regular file.
async fn read(folder: &Path, name: &str) -> Option<Vec<u8>> {
    let path = folder.join(name);
    // symlink_metadata: a link placed in the folder is not followed out of it.
    let metadata = tokio::fs::symlink_metadata(&path).await.ok()?;
    if !metadata.is_file() || metadata.len() > MAX_FILE_BYTES {
        return None;
    }
    tokio::fs::read(&path).await.ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_txt_names_at_the_root_are_candidates() {
        assert_eq!(file_name("/MP_verify_AbC123.txt"), Some("MP_verify_AbC123.txt"));
        assert_eq!(file_name("/a-b_c.txt"), Some("a-b_c.txt"));
        for path in ["/", "/.txt", "/x.html", "/dir/x.txt", "/../x.txt", "/x.txt/", "/%2e%2e.txt", "/a.b.txt"]
        {
            assert_eq!(file_name(path), None, "{path}");
        }
    }

    #[tokio::test]
    async fn files_are_read_from_the_folder_only() {
        let folder = std::env::temp_dir().join(format!("lectern-verify-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::write(folder.join("MP_verify_x.txt"), "abc").unwrap();
        std::fs::write(folder.join("big.txt"), vec![b'a'; 5000]).unwrap();
        assert_eq!(read(&folder, "MP_verify_x.txt").await.as_deref(), Some(&b"abc"[..]));
        assert_eq!(read(&folder, "missing.txt").await, None);
        assert_eq!(read(&folder, "big.txt").await, None);
        std::fs::remove_dir_all(&folder).unwrap();
    }
}
