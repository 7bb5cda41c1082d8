//! The HTSQL gateway over one mart (rex.mart's `MartLocation`): `GET
//! /mart/5/QUERY` runs QUERY on mart 5; a `POST` carries the query as its body. The
//! answer is HTSQL's: `200` with the text table (JSON with `Accept:
//! application/json`), `400` with the error's text.

use super::http::{percent_decode, Request, Response};
use super::{Answer, Web};
use crate::core::app::Database;
use crate::htsql::Product;
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
    let produced = web.pool.with(&db, |c| {
        let mut product = crate::htsql::produce(c, &query, &[])?;
        if !json {
            entitle(c, &mut product)?;
        }
        Ok(product)
    });
    match produced {
        Ok(product) => {
            resp.body = if json {
                let rows = super::json::json(&product);
                format!("{}\n", super::http::py_json_dumps(&rows)).into_bytes()
            } else {
                crate::htsql::render::render_text(&product).into_bytes()
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

/// Headers as rex.deploy's titles make them: a table's `title:` heads its segment,
/// a column's heads the column unless the query labelled it otherwise.
fn entitle(client: &mut postgres::Client, product: &mut Product) -> crate::core::Result<()> {
    let Some(tag) = product.tag.clone() else {
        return Ok(());
    };
    let Some((title, columns)) = crate::htsql::titles(client, &tag)? else {
        return Ok(());
    };
    if let Some(title) = title {
        product.tag = Some(title);
    }
    for field in &mut product.fields {
        let own = field.tag.as_ref().and_then(|t| {
            let column = columns.iter().find(|(name, _)| name == t)?;
            let plain = field.header.eq_ignore_ascii_case(&t.replace('_', " "));
            column.1.clone().filter(|_| plain)
        });
        if let Some(own) = own {
            field.header = own;
        }
    }
    Ok(())
}
