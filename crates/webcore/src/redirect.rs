//! The one place a `next` or `back` parameter becomes a redirect: to a path on this site or,
//! for anything else, to a default the handler chose. Never an open redirect, never a panic
//! (a header value with a line break would make `Redirect::to` panic after the change was made).

use axum::response::{IntoResponse, Redirect, Response};

/// `raw` when it is a path on this site, else `default`. A path here starts with one `/` and
/// holds no backslash and no control or space character: browsers drop tabs and line breaks
/// and read `\` as `/`, so `/\t/evil.example` and `/\evil.example` would leave the site.
pub fn local_path<'a>(raw: &'a str, default: &'a str) -> &'a str {
    let bytes = raw.as_bytes();
    let local = bytes.first() == Some(&b'/')
        && !matches!(bytes.get(1), Some(b'/') | Some(b'\\'))
        && !raw
            .chars()
            .any(|c| c == '\\' || c.is_control() || c.is_whitespace());
    if local {
        raw
    } else {
        default
    }
}

/// 303 See Other to [`local_path`]`(raw, default)`.
pub fn see_other_local(raw: &str, default: &str) -> Response {
    Redirect::to(local_path(raw, default)).into_response()
}

#[cfg(test)]
mod tests {
    use super::local_path;

    #[test]
    fn only_paths_on_this_site_pass() {
        for ok in ["/", "/hotline/inbox?x=1", "/services/cases/3#a", "/%09/x"] {
            assert_eq!(local_path(ok, "/d"), ok);
        }
        for bad in [
            "",
            "hotline",
            "//evil.example/",
            "/\\evil.example",
            "/\t/evil.example/phish",
            "/hotline/\n",
            "/a\r\nSet-Cookie: x=y",
            "https://evil.example/",
            "/a\\b",
            "/ /evil.example",
            "/\u{3000}x",
        ] {
            assert_eq!(local_path(bad, "/d"), "/d", "{bad:?}");
        }
    }
}
