//! The HTSQL gateway over one mart (rex.mart's `MartLocation`): `GET
//! /mart/5/QUERY` runs QUERY on mart 5; a `POST` carries the query as its body. The
//! answer is HTSQL's: `200` with the text table (JSON with `Accept:
//! application/json`), `400` with the error's text.

use super::http::{percent_decode, Request, Response};
use super::{Answer, Web};
use crate::core::app::Database;
use crate::mart::Mart;

/// Runs the query named by `rest` (the path after the mart's base) or the body.
/// `base` is the length of the path naming the mart (`/mart/5`).
pub fn handle(web: &Web, req: &Request, mart: &Mart, base: usize) -> Answer<Response> {
    let rest = &req.path[base..];
    let query = match req.method.as_str() {
        "POST" => {
            let body = String::from_utf8_lossy(&req.body).into_owned();
            match body.split_once('?') {
                Some((path, q)) => format!("{}?{q}", percent_decode(path)),
                None => percent_decode(&body),
            }
        }
        "GET" if req.query.is_empty() => rest.to_string(),
        "GET" => format!("{rest}?{}", req.query),
        _ => return Err(Response::error_page(req, 405, "")),
    };
    let json = req
        .header("Accept")
        .is_some_and(|a| a.contains("application/json"));
    let content_type = if json {
        "application/json"
    } else {
        "text/plain; charset=UTF-8"
    };
    let mut resp = Response {
        status: 200,
        headers: vec![
            ("Content-Type".into(), content_type.into()),
            ("Vary".into(), "Accept".into()),
        ],
        body: Vec::new(),
    };
    // With HTSQL's shell extension on, rex tells it where its root is (debug only).
    let settings = &web.app.settings;
    let shell = settings
        .get("mart_htsql_extensions")
        .is_some_and(|e| e.get("tweak.shell").is_some());
    if shell && settings.get("debug").and_then(|d| d.as_bool()) == Some(true) {
        resp.headers.push((
            "X-Htsql-Shell-Root".into(),
            format!("{}{}", req.host_url, &req.path[..base]),
        ));
    }
    if query.trim_matches('/').is_empty() {
        return Ok(resp);
    }
    let db = Database {
        server: web.app.hosting.clone(),
        name: mart.name.clone(),
    };
    match web
        .pool
        .with(&db, |c| crate::htsql::produce(c, &query, &[]))
    {
        Ok(product) => {
            resp.body = if json {
                let rows = super::text::json(&product);
                format!("{}\n", super::http::py_json_dumps(&rows)).into_bytes()
            } else {
                super::text::render(&product).into_bytes()
            };
            Ok(resp)
        }
        Err(e) => Err(Response {
            status: 400,
            headers: vec![("Content-Type".into(), "text/plain; charset=UTF-8".into())],
            body: format!("{e}\n").into_bytes(),
        }),
    }
}
