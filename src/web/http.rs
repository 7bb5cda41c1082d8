//! Requests and responses as the handlers see them: plain data, no framework, so the
//! same handlers answer `harness serve` (axum) and transcripts (`webob`). Bodies,
//! header order and error pages are laid out as webob and rex.web lay them out.

/// One request: `path` is the decoded path (WSGI's `PATH_INFO`), `query` the raw
/// query string, `user` what the trusted proxy (or `remote_user=`) says.
#[derive(Clone, Debug, Default)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub query: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub user: Option<String>,
    /// Scheme and host for absolute redirects, e.g. `http://localhost`.
    pub host_url: String,
}

impl Request {
    pub fn new(method: &str, path: &str) -> Request {
        Request {
            method: method.to_ascii_uppercase(),
            path: path.to_string(),
            host_url: "http://localhost".into(),
            ..Request::default()
        }
    }

    /// A header's value, names compared case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The decoded `name=value` pairs of the query string (`+` is a space).
    pub fn params(&self) -> Vec<(String, String)> {
        form_pairs(&self.query)
    }

    /// The value of cookie `name`, if sent.
    pub fn cookie(&self, name: &str) -> Option<String> {
        let header = self.header("Cookie")?;
        header.split(';').find_map(|part| {
            let (k, v) = part.trim().split_once('=')?;
            (k == name).then(|| v.to_string())
        })
    }
}

/// Decodes `application/x-www-form-urlencoded` text.
pub fn form_pairs(text: &str) -> Vec<(String, String)> {
    text.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            let dec = |s: &str| percent_decode(&s.replace('+', " "));
            (dec(k), dec(v))
        })
        .collect()
}

/// `%XX` sequences to bytes, read as UTF-8 (invalid sequences replaced).
pub fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// One response. `headers` are in the order webob would list them.
#[derive(Clone, Debug, PartialEq)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    /// rex.restful's JSON response: `Content-Type`, then `Content-Length`.
    pub fn json(status: u16, value: Option<&serde_json::Value>) -> Response {
        let body = value.map(py_json_dumps).unwrap_or_default().into_bytes();
        Response::with_body(status, "application/json", body)
    }

    /// A body with its type and length, in that header order.
    pub fn with_body(status: u16, content_type: &str, body: Vec<u8>) -> Response {
        Response {
            status,
            headers: vec![
                ("Content-Type".into(), content_type.into()),
                ("Content-Length".into(), body.len().to_string()),
            ],
            body,
        }
    }

    /// `{"error": text}` with `status` (rex.restful's answer to an HTTP error).
    pub fn json_error(status: u16, text: &str) -> Response {
        let mut map = serde_json::Map::new();
        map.insert("error".into(), serde_json::Value::String(text.into()));
        Response::json(status, Some(&serde_json::Value::Object(map)))
    }

    /// webob's plain-text HTTP error page (what `HTTPNotFound()` etc. answer to a
    /// request without `Accept`). `detail` is the exception's argument.
    pub fn error_page(status: u16, method: &str, detail: &str) -> Response {
        let detail = detail.replace('\n', " ");
        let text = match status {
            405 => format!("The method {method} is not allowed for this resource. \n\n {detail}"),
            _ => format!("{}\n\n {detail}  ", explanation(status)),
        };
        let body = format!("{} {}\n\n{text}", status, reason(status));
        Response::page(status, body, vec![])
    }

    /// webob's `HTTPMovedPermanently(add_slash=True)` to `location`.
    pub fn moved(location: &str) -> Response {
        let body = format!(
            "301 Moved Permanently\n\nThe resource has been moved to {location}; \
             you should be redirected automatically.  "
        );
        Response::page(301, body, vec![("Location".into(), location.into())])
    }

    fn page(status: u16, body: String, mut headers: Vec<(String, String)>) -> Response {
        headers.push(("Content-Length".into(), body.len().to_string()));
        headers.push(("Content-Type".into(), "text/plain; charset=UTF-8".into()));
        Response {
            status,
            headers,
            body: body.into_bytes(),
        }
    }

    /// `200 OK` etc.
    pub fn status_line(&self) -> String {
        format!("{} {}", self.status, reason(self.status))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// `str(response)` in webob: status line, headers, a blank line and the body
    /// (no blank line when the body is empty), joined with CRLF.
    pub fn webob_text(&self) -> String {
        let mut parts = vec![self.status_line()];
        parts.extend(self.headers.iter().map(|(k, v)| format!("{k}: {v}")));
        if !self.body.is_empty() {
            parts.push(String::new());
            parts.push(String::from_utf8_lossy(&self.body).into_owned());
        }
        parts.join("\r\n")
    }
}

/// The reason phrase of a status code.
pub fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        500 => "Internal Server Error",
        _ => "Unknown",
    }
}

/// webob's explanation of an HTTP error (`str(exc)` when it has no detail).
pub fn explanation(status: u16) -> &'static str {
    match status {
        401 => {
            "This server could not verify that you are authorized to access the document you \
             requested. Either you supplied the wrong credentials (e.g., bad password), or your \
             browser does not understand how to supply the credentials required."
        }
        403 => "Access was denied to this resource.",
        404 => "The resource could not be found.",
        500 => "The server has either erred or is incapable of performing the requested operation.",
        _ => {
            "The server could not comply with the request since it is either malformed or \
             otherwise incorrect."
        }
    }
}

/// Python's `json.dumps(value)`: keys in their order, `, ` and `: ` separators,
/// ASCII only.
pub fn py_json_dumps(value: &serde_json::Value) -> String {
    use serde_json::Value as J;
    match value {
        J::Array(items) => format!(
            "[{}]",
            items
                .iter()
                .map(py_json_dumps)
                .collect::<Vec<_>>()
                .join(", ")
        ),
        J::Object(map) => {
            let parts: Vec<String> = map
                .iter()
                .map(|(k, v)| {
                    format!(
                        "{}: {}",
                        crate::deploy::json_dumps(&J::String(k.clone())),
                        py_json_dumps(v)
                    )
                })
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
        J::Number(n) if n.is_f64() => {
            crate::core::repr::py_float_repr(n.as_f64().unwrap_or_default())
        }
        scalar => crate::deploy::json_dumps(scalar),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pages_as_webob_prints_them() {
        // Lengths and layout checked against webob 1.8.
        let r = Response::error_page(401, "GET", "");
        assert_eq!(r.header("Content-Length"), Some("253"));
        let r = Response::error_page(403, "POST", "Runtime Mart creation is not allowed");
        assert_eq!(r.header("Content-Length"), Some("91"));
        let r = Response::error_page(405, "DELETE", "");
        assert_eq!(r.header("Content-Length"), Some("79"));
        assert!(r.webob_text().starts_with(
            "405 Method Not Allowed\r\nContent-Length: 79\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n"
        ));
        let r = Response::moved("http://localhost/b/");
        assert_eq!(r.header("Content-Length"), Some("116"));
        assert_eq!(
            Response::json(204, None).webob_text(),
            "204 No Content\r\nContent-Type: application/json\r\nContent-Length: 0"
        );
    }

    #[test]
    fn json_as_python_dumps_it() {
        let v = json!({"b": [1, 2.5, null], "a": "é\"", "c": {"x": true}});
        assert_eq!(
            py_json_dumps(&v),
            r#"{"b": [1, 2.5, null], "a": "\u00e9\"", "c": {"x": true}}"#
        );
    }

    #[test]
    fn decoding() {
        assert_eq!(percent_decode("a%20b%zz%2"), "a b%zz%2");
        assert_eq!(
            form_pairs("a=1&b=x+y%21&c"),
            vec![
                ("a".into(), "1".into()),
                ("b".into(), "x y!".into()),
                ("c".into(), "".into())
            ]
        );
    }
}
