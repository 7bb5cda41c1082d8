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

    /// webob's page for an HTTP error (`HTTPNotFound()`...; `detail` is the
    /// exception's argument), in the form the request's `Accept` prefers: HTML, JSON,
    /// or plain text (also without `Accept`, as `Request.blank` sends).
    pub fn error_page(req: &Request, status: u16, detail: &str) -> Response {
        Response::page(req, status, detail, None)
    }

    /// webob's `HTTPMovedPermanently(add_slash=True)` to `location`.
    pub fn moved(req: &Request, location: &str) -> Response {
        Response::page(req, 301, "", Some(location))
    }

    fn page(req: &Request, status: u16, detail: &str, location: Option<&str>) -> Response {
        let title = format!("{status} {}", reason(status));
        let flat = detail.replace('\n', " ");
        let method = &req.method;
        let (markup, plain) = match (status, location) {
            (_, Some(loc)) => (
                format!(
                    "The resource has been moved to <a href=\"{loc}\">{loc}</a>;\n\
                     you should be redirected automatically.\n{{detail}}\n"
                ),
                format!("The resource has been moved to {loc}; you should be redirected automatically. {flat} "),
            ),
            (405, _) => (
                format!("The method {method} is not allowed for this resource. <br /><br />\n{{detail}}"),
                format!("The method {method} is not allowed for this resource. \n\n {flat}"),
            ),
            _ => (
                format!("{}<br /><br />\n{{detail}}\n\n", explanation(status)),
                format!("{}\n\n {flat}  ", explanation(status)),
            ),
        };
        let (content_type, body) = match preferred_form(req.header("Accept")) {
            Form::Html => (
                "text/html; charset=UTF-8",
                format!(
                    "<html>\n <head>\n  <title>{title}</title>\n </head>\n <body>\n  <h1>{title}</h1>\n  {}\n </body>\n</html>",
                    markup.replace("{detail}", &html_escape(detail))
                ),
            ),
            Form::Json => {
                let mut map = serde_json::Map::new();
                map.insert("message".into(), markup.replace("{detail}", detail).into());
                map.insert("code".into(), title.clone().into());
                map.insert("title".into(), reason(status).into());
                ("application/json", py_json_dumps(&serde_json::Value::Object(map)))
            }
            Form::Plain => ("text/plain; charset=UTF-8", format!("{title}\n\n{plain}")),
        };
        let mut headers: Vec<(String, String)> = location
            .map(|l| ("Location".to_string(), l.to_string()))
            .into_iter()
            .collect();
        headers.push(("Content-Length".into(), body.len().to_string()));
        headers.push(("Content-Type".into(), content_type.into()));
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

/// The forms of webob's error pages.
enum Form {
    Plain,
    Html,
    Json,
}

/// webob's choice among HTML and JSON by `Accept` (highest quality, HTML on a tie);
/// plain text when neither is acceptable or there is no `Accept`.
fn preferred_form(accept: Option<&str>) -> Form {
    let Some(accept) = accept else {
        return Form::Plain;
    };
    let quality = |offer: &str| -> f64 {
        let (kind, _) = offer.split_once('/').unwrap_or((offer, ""));
        let mut best: Option<(u8, f64)> = None;
        for range in accept.split(',') {
            let mut parts = range.split(';').map(str::trim);
            let media = parts.next().unwrap_or("").to_ascii_lowercase();
            let q = parts
                .find_map(|p| p.strip_prefix("q="))
                .and_then(|q| q.parse().ok())
                .unwrap_or(1.0);
            let specificity = if media == offer {
                2
            } else if media == format!("{kind}/*") {
                1
            } else if media == "*/*" {
                0
            } else {
                continue;
            };
            if best.is_none_or(|(s, _)| specificity > s) {
                best = Some((specificity, q));
            }
        }
        best.map_or(0.0, |(_, q)| q)
    };
    let (html, json) = (quality("text/html"), quality("application/json"));
    if html > 0.0 && html >= json {
        Form::Html
    } else if json > 0.0 {
        Form::Json
    } else {
        Form::Plain
    }
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
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
        let get = Request::new("GET", "/");
        let r = Response::error_page(&get, 401, "");
        assert_eq!(r.header("Content-Length"), Some("253"));
        let detail = "Runtime Mart creation is not allowed";
        let r = Response::error_page(&Request::new("POST", "/"), 403, detail);
        assert_eq!(r.header("Content-Length"), Some("91"));
        let r = Response::error_page(&Request::new("DELETE", "/"), 405, "");
        assert_eq!(r.header("Content-Length"), Some("79"));
        assert!(r.webob_text().starts_with(
            "405 Method Not Allowed\r\nContent-Length: 79\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n"
        ));
        let r = Response::moved(&get, "http://localhost/b/");
        assert_eq!(r.header("Content-Length"), Some("116"));
        // With Accept: HTML for browsers and */*, JSON when asked.
        let mut html = get.clone();
        html.headers.push(("Accept".into(), "*/*".into()));
        let r = Response::error_page(&html, 401, "");
        assert_eq!(r.header("Content-Length"), Some("358"));
        let r = Response::error_page(&html, 403, "Runtime <x> Mart");
        assert!(String::from_utf8_lossy(&r.body)
            .contains("<br /><br />\nRuntime &lt;x&gt; Mart\n\n\n </body>"));
        assert_eq!(r.header("Content-Length"), Some("179"));
        assert_eq!(
            Response::error_page(&html, 405, "").header("Content-Length"),
            Some("187")
        );
        assert_eq!(
            Response::moved(&html, "http://localhost/b/").header("Content-Length"),
            Some("250")
        );
        let mut json = get.clone();
        json.headers
            .push(("Accept".into(), "application/json".into()));
        assert_eq!(
            Response::error_page(&json, 401, "").header("Content-Length"),
            Some("316")
        );
        let r = Response::error_page(&json, 403, "Runtime <x> Mart");
        assert_eq!(r.header("Content-Length"), Some("131"));
        assert_eq!(
            Response::moved(&json, "http://localhost/b/").header("Content-Length"),
            Some("210")
        );
        json.headers[0].1 = "text/plain".into();
        assert_eq!(
            Response::error_page(&json, 404, "").header("Content-Length"),
            Some("52")
        );
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
