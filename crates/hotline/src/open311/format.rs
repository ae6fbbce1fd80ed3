//! Answers as the spec writes them: a document kept in field order, written as JSON or XML, and
//! the error documents.

use super::domain::Fail;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Format {
    Json,
    Xml,
}

impl Format {
    pub(super) fn ext(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Xml => "xml",
        }
    }

    /// `A市12345-20260316-000001.xml` → (`A市12345-20260316-000001`, Xml).
    pub(super) fn split(file: &str) -> Option<(&str, Format)> {
        let (stem, ext) = file.rsplit_once('.')?;
        let f = match ext {
            "json" => Format::Json,
            "xml" => Format::Xml,
            _ => return None,
        };
        Some((stem, f)).filter(|(s, _)| !s.is_empty())
    }
}

/// A document, kept in the spec's field order, written as JSON or XML.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum V {
    Null,
    Bool(bool),
    Int(i64),
    Num(f64),
    Str(String),
    Obj(Vec<(&'static str, V)>),
    /// A JSON array; in XML each item is an element with this name.
    List(&'static str, Vec<V>),
}

pub(super) fn s(x: impl Into<String>) -> V {
    V::Str(x.into())
}

pub(super) fn opt(x: Option<String>) -> V {
    x.map_or(V::Null, V::Str)
}

impl serde::Serialize for V {
    fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        match self {
            V::Null => ser.serialize_none(),
            V::Bool(b) => ser.serialize_bool(*b),
            V::Int(i) => ser.serialize_i64(*i),
            V::Num(x) => ser.serialize_f64(*x),
            V::Str(x) => ser.serialize_str(x),
            V::Obj(fields) => {
                let mut m = ser.serialize_map(Some(fields.len()))?;
                for (k, v) in fields {
                    m.serialize_entry(k, v)?;
                }
                m.end()
            }
            V::List(_, items) => {
                let mut q = ser.serialize_seq(Some(items.len()))?;
                for v in items {
                    q.serialize_element(v)?;
                }
                q.end()
            }
        }
    }
}

/// Escapes text for XML 1.0 and drops the characters XML 1.0 cannot carry at all.
pub(super) fn xml_escape(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Kept as a reference, so parsers do not fold it into a line feed.
            '\r' => out.push_str("&#13;"),
            '\t' | '\n' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
}

pub(super) fn xml_element(out: &mut String, name: &str, v: &V) {
    let open = |out: &mut String| {
        out.push('<');
        out.push_str(name);
        out.push('>');
    };
    let close = |out: &mut String| {
        out.push_str("</");
        out.push_str(name);
        out.push('>');
    };
    match v {
        V::Null => {
            out.push('<');
            out.push_str(name);
            out.push_str("/>");
        }
        V::Obj(fields) => {
            open(out);
            for (k, v) in fields {
                xml_element(out, k, v);
            }
            close(out);
        }
        V::List(item, items) => {
            open(out);
            for v in items {
                xml_element(out, item, v);
            }
            close(out);
        }
        V::Bool(b) => {
            open(out);
            out.push_str(if *b { "true" } else { "false" });
            close(out);
        }
        V::Int(i) => {
            open(out);
            out.push_str(&i.to_string());
            close(out);
        }
        V::Num(x) => {
            open(out);
            out.push_str(&x.to_string());
            close(out);
        }
        V::Str(t) => {
            open(out);
            xml_escape(out, t);
            close(out);
        }
    }
}

pub(super) fn to_xml(root: &str, v: &V) -> String {
    let mut out = String::from(r#"<?xml version="1.0" encoding="utf-8"?>"#);
    xml_element(&mut out, root, v);
    out
}

pub(super) fn render(f: Format, status: StatusCode, root: &'static str, v: &V) -> Response {
    let (ct, body) = match f {
        Format::Json => (
            "application/json; charset=utf-8",
            serde_json::to_string(v).unwrap_or_else(|_| "[]".into()),
        ),
        Format::Xml => ("text/xml; charset=utf-8", to_xml(root, v)),
    };
    (status, [(header::CONTENT_TYPE, ct)], body).into_response()
}

/// A public read: any web page may use it.
pub(super) fn public(mut r: Response) -> Response {
    r.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    r
}

pub(super) fn fail(f: Format, e: Fail) -> Response {
    let code = i64::from(e.status);
    let list = V::List(
        "error",
        e.errors
            .into_iter()
            .map(|d| V::Obj(vec![("code", V::Int(code)), ("description", V::Str(d))]))
            .collect(),
    );
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    render(f, status, "errors", &list)
}

/// Renders `Ok` with `root` (the XML root element) or the error document.
pub(super) fn answer(f: Format, root: &'static str, r: Result<V, Fail>) -> Response {
    match r {
        Ok(v) => render(f, StatusCode::OK, root, &v),
        Err(e) => fail(f, e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_is_escaped_and_cleaned() {
        let v = V::List(
            "request",
            vec![V::Obj(vec![
                ("a", s("<b> & \"c\" 'd'\r\u{1}é")),
                ("n", V::Null),
                ("x", V::Num(30.5)),
                ("t", V::Bool(true)),
                ("l", V::List("value", vec![])),
            ])],
        );
        assert_eq!(
            to_xml("service_requests", &v),
            r#"<?xml version="1.0" encoding="utf-8"?><service_requests><request><a>&lt;b&gt; &amp; &quot;c&quot; &apos;d&apos;&#13;é</a><n/><x>30.5</x><t>true</t><l></l></request></service_requests>"#
        );
        assert_eq!(
            serde_json::to_string(&v).unwrap(),
            r#"[{"a":"<b> & \"c\" 'd'\r\u0001é","n":null,"x":30.5,"t":true,"l":[]}]"#
        );
    }
}
