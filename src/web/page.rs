//! The page at `/`: the user's marts (every status, so a creation in progress shows
//! its phase) and their jobs (state, timings, the failure's detail), refreshed every
//! second by a few lines of script (a meta refresh without script), and a form that
//! asks for a mart by submitting a `rexmart_create` job. `GET /?part=status` is the
//! refreshed fragment alone.

use super::http::{form_pairs, Request, Response};
use super::{Answer, Ctx, Web};
use crate::core::Result;
use crate::mart::inventory::{self, py_datetime};
use chrono::NaiveDateTime;

pub fn handle(web: &Web, req: &Request, user: &str, ctx: &mut Ctx) -> Answer<Response> {
    match req.method.as_str() {
        "GET" => {
            let status = web.with_db(|db| status_html(db, user))?;
            let part = req
                .params()
                .iter()
                .any(|(k, v)| k == "part" && v == "status");
            let body = if part {
                status
            } else {
                full_page(web, user, &status, None, ctx)?
            };
            Ok(html(200, body))
        }
        "POST" => {
            let fields = form_pairs(&String::from_utf8_lossy(&req.body));
            let id = fields
                .iter()
                .find(|(k, _)| k == "definition")
                .map(|(_, v)| v.clone())
                .unwrap_or_default();
            match request_mart(web, user, &id, ctx)? {
                Ok(_) => {
                    let mut r = html(303, String::new());
                    r.headers
                        .insert(0, ("Location".into(), format!("{}/", req.host_url)));
                    Ok(r)
                }
                Err((status, message)) => {
                    let state = web.with_db(|db| status_html(db, user))?;
                    Ok(html(
                        status,
                        full_page(web, user, &state, Some(&message), ctx)?,
                    ))
                }
            }
        }
        _ => Err(Response::error_page(req, 405, "")),
    }
}

fn html(status: u16, body: String) -> Response {
    Response::with_body(status, "text/html; charset=UTF-8", body.into_bytes())
}

/// Submits a creation job for `id` when the rules allow it: the job's code, or the
/// status and message that refuse it.
fn request_mart(
    web: &Web,
    user: &str,
    id: &str,
    ctx: &mut Ctx,
) -> Answer<std::result::Result<i64, (u16, String)>> {
    let Some(definition) = web.definitions.get(id) else {
        return Ok(Err((404, format!("Unknown definition \"{id}\""))));
    };
    if !ctx.can_access_definition(user, id)? {
        return Ok(Err((401, format!("You may not use definition \"{id}\""))));
    }
    let allowed = web
        .app
        .settings
        .get("mart_allow_runtime_creation")
        .and_then(serde_json::Value::as_bool)
        .unwrap_or(false);
    if !allowed {
        return Ok(Err((403, "Runtime Mart creation is not allowed".into())));
    }
    web.with_db(|db| {
        if !ctx
            .quota
            .can_create_mart(db, user, definition, &web.settings)?
        {
            return Ok(Err((
                403,
                "Creating a Mart of this Definition would violate your Quota".into(),
            )));
        }
        let payload = serde_json::json!({ "owner": user, "definition": id });
        let title = format!("Mart of {id}");
        crate::job::submit::submit(db, "rexmart_create", user, Some(&title), &payload).map(Ok)
    })
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn when(t: &Option<NaiveDateTime>) -> String {
    t.as_ref().map(py_datetime).unwrap_or_default()
}

fn took(from: &Option<NaiveDateTime>, to: &Option<NaiveDateTime>) -> String {
    match (from, to) {
        (Some(a), Some(b)) => inventory::py_timedelta(*b - *a),
        _ => String::new(),
    }
}

fn table(id: &str, heads: &[&str], rows: Vec<Vec<String>>) -> String {
    let mut out = format!("<table id=\"{id}\"><tr>");
    for h in heads {
        out.push_str(&format!("<th>{h}</th>"));
    }
    out.push_str("</tr>\n");
    for row in rows {
        out.push_str("<tr>");
        for cell in row {
            out.push_str(&format!("<td>{}</td>", escape(&cell)));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n");
    out
}

/// The marts and jobs tables.
fn status_html(db: &mut postgres::Client, user: &str) -> Result<String> {
    let marts = inventory::list(db, Some(user))?;
    let mart_rows = marts
        .iter()
        .rev()
        .map(|m| {
            vec![
                m.code.to_string(),
                m.definition.clone(),
                m.status.clone(),
                m.name.clone(),
                py_datetime(&m.date_creation_started),
                took(&Some(m.date_creation_started), &m.date_creation_completed),
                m.size.map(|s| s.to_string()).unwrap_or_default(),
                if m.pinned { "yes" } else { "" }.into(),
            ]
        })
        .collect();
    let jobs = db.query(
        "SELECT code, type, status::text, date_submitted, date_started, date_completed, \
         coalesce(status_detail, '') FROM job WHERE owner = $1 ORDER BY code DESC LIMIT 100",
        &[&user],
    )?;
    let job_rows = jobs
        .iter()
        .map(|r| {
            let started: Option<NaiveDateTime> = r.get(4);
            let completed: Option<NaiveDateTime> = r.get(5);
            vec![
                r.get::<_, i64>(0).to_string(),
                r.get(1),
                r.get(2),
                when(&Some(r.get(3))),
                when(&started),
                took(&started, &completed),
                r.get(6),
            ]
        })
        .collect();
    Ok(format!(
        "<h2>Marts</h2>\n{}<h2>Jobs</h2>\n{}",
        table(
            "marts",
            &[
                "code",
                "definition",
                "status",
                "name",
                "started",
                "took",
                "size",
                "pinned"
            ],
            mart_rows
        ),
        table(
            "jobs",
            &[
                "code",
                "type",
                "state",
                "submitted",
                "started",
                "took",
                "detail"
            ],
            job_rows
        ),
    ))
}

fn full_page(
    web: &Web,
    user: &str,
    status: &str,
    message: Option<&str>,
    ctx: &mut Ctx,
) -> Answer<String> {
    let options: String =
        crate::mart::permissions::get_definitions_for_user(&web.definitions, user, ctx.access)
            .map_err(|e| super::server_error(&e))?
            .into_iter()
            .map(|d| format!("<option value=\"{0}\">{0}</option>", escape(&d.id)))
            .collect();
    let message = message
        .map(|m| format!("<p id=\"message\">{}</p>\n", escape(m)))
        .unwrap_or_default();
    Ok(format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Marts of {user}</title>\n\
<noscript><meta http-equiv=\"refresh\" content=\"2\"></noscript>\n\
<style>body{{font-family:sans-serif}}td,th{{padding:2px 8px;text-align:left}}</style></head>\n\
<body><h1>Marts of {user}</h1>\n{message}\
<form method=\"post\" action=\"/\"><select name=\"definition\">{options}</select>\n\
<button type=\"submit\">Request a mart</button></form>\n\
<div id=\"status\">{status}</div>\n\
<script>setInterval(function(){{fetch('/?part=status',{{credentials:'same-origin'}})\
.then(function(r){{return r.ok?r.text():null}})\
.then(function(t){{if(t!==null)document.getElementById('status').innerHTML=t}})}},1000)</script>\n\
</body></html>\n",
        user = escape(user)
    ))
}
