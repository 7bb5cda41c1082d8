//! rex.mart's web API (`rex.mart.commands`) over the domain, as plain functions of a
//! [`http::Request`]: `harness serve` adapts them to axum, the transcripts' `webob`
//! module calls them in process. Status codes, JSON bodies and error pages follow
//! rex.restful (HTTP errors raised by a resource become `{"error": ...}` with their
//! status) and rex.web (unauthenticated requests, unknown methods and the HTSQL
//! gateway's lookups are webob's error pages, plain, HTML or JSON as `Accept` asks;
//! `/mart/5` redirects to `/mart/5/`). The page at `/` is the harness's own.

mod gateway;
pub mod http;
mod json;
mod page;
mod pool;

use crate::asynctask::Transport;
use crate::core::app::App;
use crate::core::validate::{BoolVal, IntVal, MapVal, OneOfVal, RecordVal, StrVal, Validator};
use crate::core::yaml::Node;
use crate::core::{Error, Result};
use crate::mart::permissions::{self, AccessPermissions, DefaultPermissions, MartAccess};
use crate::mart::quota::{DefaultQuota, QuotaRules};
use crate::mart::settings::MartSettings;
use crate::mart::{Definitions, Mart};
use http::{Request, Response};
use serde_json::{json, Value};
use std::sync::Arc;

/// How the service finds the application's async task transport.
pub type TransportFn = dyn Fn(&App) -> Result<Arc<dyn Transport>> + Send + Sync;

/// The access and quota rules requests are answered with (rex.mart's
/// `MartAccessPermissions` and `MartQuota`, the application's own when it has them).
pub trait Rules: Send + Sync {
    /// Runs `f` with the rules of `app` (whose definitions are `definitions`).
    fn with(
        &self,
        app: &App,
        definitions: &Definitions,
        f: &mut dyn FnMut(&mut Ctx) -> Response,
    ) -> Response;
}

/// rex.mart's own rules: every definition for everyone; owners see and manage their
/// marts; quotas count pinned marts.
pub struct DefaultRules;

impl Rules for DefaultRules {
    fn with(
        &self,
        _app: &App,
        _definitions: &Definitions,
        f: &mut dyn FnMut(&mut Ctx) -> Response,
    ) -> Response {
        f(&mut Ctx {
            access: &mut DefaultPermissions,
            quota: &mut DefaultQuota,
        })
    }
}

/// The rules of one request.
pub struct Ctx<'a> {
    pub access: &'a mut dyn AccessPermissions,
    pub quota: &'a mut dyn QuotaRules,
}

impl Ctx<'_> {
    /// rex's `user_can_access_definition`; a failing rule is a `500`.
    fn can_access_definition(&mut self, user: &str, id: &str) -> Answer<bool> {
        self.access
            .user_can_access_definition(user, id)
            .map_err(|e| server_error(&e))
    }

    /// rex's `get_mart(code, user)`.
    fn get_mart(&mut self, db: &mut postgres::Client, code: i64, user: &str) -> Result<MartAccess> {
        let access = &mut *self.access;
        permissions::get_mart(db, code, &mut |m| access.user_can_access_mart(user, m))
    }

    /// rex's `get_marts_for_user(user, definition_id)`: `None` when the definition
    /// is not the user's to see.
    fn marts_for_user(
        &mut self,
        db: &mut postgres::Client,
        user: &str,
        definition: Option<&str>,
    ) -> Result<Option<Vec<Mart>>> {
        let access = &mut *self.access;
        if let Some(d) = definition {
            if !access.user_can_access_definition(user, d)? {
                return Ok(None);
            }
        }
        permissions::get_marts_for_user(db, user, definition, &mut |m| {
            access.user_can_access_mart(user, m)
        })
        .map(Some)
    }
}

/// The web service of one application.
pub struct Web {
    pub app: App,
    definitions: Definitions,
    settings: MartSettings,
    rules: Box<dyn Rules>,
    transport: Box<TransportFn>,
    pool: pool::Pool,
}

/// A handler's early answer.
type Answer<T> = std::result::Result<T, Response>;

impl Web {
    /// Reads the application's definitions and `mart_*` settings once.
    pub fn new(app: App, transport: Box<TransportFn>, rules: Box<dyn Rules>) -> Result<Web> {
        let settings = MartSettings::from_settings(&app.settings)?;
        let definitions = Definitions::for_app(&app)?;
        Ok(Web {
            app,
            definitions,
            settings,
            rules,
            transport,
            pool: pool::Pool::default(),
        })
    }

    /// Answers one request. Never panics on bad input; a failure of the database is
    /// a `500` page.
    pub fn handle(&self, req: &Request) -> Response {
        let user = req.user.as_deref().filter(|u| !u.is_empty());
        let mut resp = match user {
            // rex.web refuses anonymous requests before any handler runs.
            None => Response::error_page(req, 401, ""),
            Some(user) => self
                .rules
                .with(
                    &self.app,
                    &self.definitions,
                    &mut |ctx| match self.route(req, user, ctx) {
                        Ok(r) | Err(r) => r,
                    },
                ),
        };
        // rex.web's session cookie: issued when the client has none.
        if req.cookie("rex.session").is_none() {
            resp.headers.push((
                "Set-Cookie".into(),
                format!("rex.session={}; Path=/; HttpOnly", session_token()),
            ));
        }
        if resp.header("Content-Length").is_none() {
            resp.headers
                .push(("Content-Length".into(), resp.body.len().to_string()));
        }
        resp
    }

    fn route(&self, req: &Request, user: &str, ctx: &mut Ctx) -> Answer<Response> {
        let segs: Vec<&str> = req.path.split('/').skip(1).collect();
        match segs.as_slice() {
            [""] => page::handle(self, req, user, ctx),
            ["mart"] => self
                .restful(req, |m| match m {
                    "GET" => Some(200),
                    _ => None,
                })
                .and_then(|_| self.mart_list(user, ctx)),
            ["definition"] => self
                .restful(req, |m| (m == "GET").then_some(200))
                .and_then(|_| self.definition_list(user, ctx)),
            ["definition", id] => {
                let status = self.restful(req, |m| match m {
                    "GET" => Some(200),
                    "POST" => Some(202),
                    _ => None,
                })?;
                if status == 200 {
                    self.definition_detail(user, id, ctx)
                } else {
                    self.create(req, user, id, ctx)
                }
            }
            ["mart", code, "_api"] => {
                let code = restful_param("mart_id", code, &IntVal::new())?;
                let code = code.as_i64().unwrap_or_default();
                self.mart_api(req, user, ctx, |_, ctx, db| {
                    Ok(match ctx.get_mart(db, code, user)? {
                        MartAccess::Missing => Err(not_found_json()),
                        MartAccess::Denied => Err(unauthorized_json()),
                        MartAccess::Granted(m) => Ok(m),
                    })
                })
            }
            ["definition", id, which, "_api"] => {
                let which = restful_param("latest_or_index", which, &latest_or_index())?;
                self.mart_api(req, user, ctx, |web, ctx, db| {
                    web.nth_mart(db, ctx, user, id, &which, None)
                })
            }
            ["mart", _] | ["definition", _, _] => Err(Response::moved(
                req,
                &format!("{}{}/", req.host_url, req.path),
            )),
            ["mart", code, ..] => {
                let code = IntVal::new()
                    .validate(&Node::from_json(&json!(code)))
                    .ok()
                    .and_then(|n| n.as_i64())
                    .ok_or_else(|| Response::error_page(req, 404, ""))?;
                let mart = match self.with_db(|db| ctx.get_mart(db, code, user))? {
                    MartAccess::Missing => return Err(Response::error_page(req, 404, "")),
                    MartAccess::Denied => return Err(Response::error_page(req, 401, "")),
                    MartAccess::Granted(m) => m,
                };
                let base = 6 + req.path[6..].find('/').unwrap_or(0);
                gateway::handle(self, req, &mart, base)
            }
            ["definition", id, which, ..] => {
                let which = latest_or_index()
                    .validate(&Node::from_json(&json!(which)))
                    .map_err(|_| Response::error_page(req, 404, ""))?;
                let mart =
                    self.with_db(|db| self.nth_mart(db, ctx, user, id, &which, Some(req)))??;
                let base = "/definition/".len() + id.len() + 1 + segs[2].len();
                gateway::handle(self, req, &mart, base)
            }
            _ => Err(Response::error_page(req, 404, "")),
        }
    }

    /// rex.restful's checks before a resource method runs: the method is
    /// implemented (else `405`), the query has only known parameters (else `400`).
    /// Returns the method's success status.
    fn restful(&self, req: &Request, methods: impl Fn(&str) -> Option<u16>) -> Answer<u16> {
        let status = methods(&req.method).ok_or_else(|| Response::error_page(req, 405, ""))?;
        for (key, _) in req.params() {
            if key != "format" && !key.starts_with('_') {
                let e = Error::with("Received unexpected parameter:", key);
                return Err(bad_request_json(&e.to_string()));
            }
        }
        Ok(status)
    }

    /// Runs `f` on a pooled session of the application database; an error of the
    /// database becomes a `500` page.
    fn with_db<T>(&self, f: impl FnOnce(&mut postgres::Client) -> Result<T>) -> Answer<T> {
        self.pool
            .with(&self.app.db, f)
            .map_err(|e| server_error(&e))
    }

    fn mart_list(&self, user: &str, ctx: &mut Ctx) -> Answer<Response> {
        let marts = self.with_db(|db| ctx.marts_for_user(db, user, None))?;
        let marts: Vec<Value> = marts.unwrap_or_default().iter().map(mart_dict).collect();
        Ok(Response::json(200, Some(&json!({ "marts": marts }))))
    }

    fn definition_list(&self, user: &str, ctx: &mut Ctx) -> Answer<Response> {
        let defs: Vec<Value> =
            permissions::get_definitions_for_user(&self.definitions, user, ctx.access)
                .map_err(|e| server_error(&e))?
                .into_iter()
                .map(definition_dict)
                .collect();
        Ok(Response::json(200, Some(&json!({ "definitions": defs }))))
    }

    fn definition_detail(&self, user: &str, id: &str, ctx: &mut Ctx) -> Answer<Response> {
        let definition = self.definitions.get(id).ok_or_else(not_found_json)?;
        let marts = self
            .with_db(|db| ctx.marts_for_user(db, user, Some(id)))?
            .ok_or_else(unauthorized_json)?;
        let marts: Vec<Value> = marts.iter().map(mart_dict).collect();
        Ok(Response::json(
            200,
            Some(&json!({ "definition": definition_dict(definition), "marts": marts })),
        ))
    }

    /// `POST /definition/ID`: queues a creation task when runtime creation is on.
    fn create(&self, req: &Request, user: &str, id: &str, ctx: &mut Ctx) -> Answer<Response> {
        let validator = RecordVal::new()
            .optional("purge_on_failure", BoolVal, Node::from_json(&json!(true)))
            .optional("leave_incomplete", BoolVal, Node::from_json(&json!(false)))
            .optional("parameters", MapVal::any(), Node::from_json(&json!({})));
        let payload = parse_payload(req, &validator)?;
        if !ctx.can_access_definition(user, id)? {
            return Err(unauthorized_json());
        }
        let allowed = self
            .app
            .settings
            .get("mart_allow_runtime_creation")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        if !allowed {
            return Err(Response::json_error(
                403,
                "Runtime Mart creation is not allowed",
            ));
        }
        let definition = self.definitions.get(id).ok_or_else(not_found_json)?;
        let given: Vec<(String, Node)> = match Node::from_json(&payload["parameters"]).value {
            crate::core::yaml::NodeValue::Map(entries) => entries,
            _ => Vec::new(),
        };
        crate::mart::params::validate_parameters(&definition.parameters, &given)
            .map_err(|e| Response::json_error(400, &e.to_string()))?;
        let can = self.with_db(|db| {
            ctx.quota
                .can_create_mart(db, user, definition, &self.settings)
        })?;
        if !can {
            return Err(Response::json_error(
                403,
                "Creating a Mart of this Definition would violate your Quota",
            ));
        }
        let mut task = payload.as_object().cloned().unwrap_or_default();
        task.insert("owner".into(), json!(user));
        task.insert("definition".into(), json!(id));
        let task = Value::Object(task);
        let queue = self
            .app
            .settings
            .get_str("mart_runtime_creation_queue")
            .unwrap_or("rexmart_create")
            .to_string();
        (self.transport)(&self.app)
            .and_then(|t| t.submit_task(&queue, &task))
            .map_err(|e| server_error(&e))?;
        Ok(Response::json(202, Some(&task)))
    }

    /// The `_api` resources: GET the mart, PUT `{"pinned": bool}`, DELETE it.
    fn mart_api(
        &self,
        req: &Request,
        user: &str,
        ctx: &mut Ctx,
        find: impl FnOnce(&Web, &mut Ctx, &mut postgres::Client) -> Result<Answer<Mart>>,
    ) -> Answer<Response> {
        let status = self.restful(req, |m| match m {
            "GET" => Some(200),
            "PUT" => Some(202),
            "DELETE" => Some(204),
            _ => None,
        })?;
        let pinned = match status {
            202 => {
                let v = parse_payload(req, &RecordVal::new().field("pinned", BoolVal))?;
                Some(v["pinned"].as_bool().unwrap_or(false))
            }
            _ => None,
        };
        let mut mart = self.with_db(|db| find(self, ctx, db))??;
        if status == 200 {
            return Ok(Response::json(200, Some(&mart_dict(&mart))));
        }
        let manage = ctx.access.user_can_manage_mart(user, &mart);
        if !manage.map_err(|e| server_error(&e))? {
            return Err(unauthorized_json());
        }
        match pinned {
            Some(p) => {
                self.with_db(|db| crate::mart::quota::set_pinned(db, mart.code, p))?;
                mart.pinned = p;
                Ok(Response::json(202, Some(&mart_dict(&mart))))
            }
            None => {
                self.pool.forget(&mart.name);
                crate::mart::purge_mart(&self.app, mart.code).map_err(|e| server_error(&e))?;
                Ok(Response::json(204, None))
            }
        }
    }

    /// The mart `/definition/ID/latest` or `/definition/ID/N` names: `401` when the
    /// definition is not the user's, `404` when there is no such mart (JSON bodies for
    /// the `_api` resources, pages for the gateway).
    fn nth_mart(
        &self,
        db: &mut postgres::Client,
        ctx: &mut Ctx,
        user: &str,
        id: &str,
        which: &Node,
        page: Option<&Request>,
    ) -> Result<Answer<Mart>> {
        let (unauthorized, not_found) = match page {
            None => (unauthorized_json(), not_found_json()),
            Some(req) => (
                Response::error_page(req, 401, ""),
                Response::error_page(req, 404, ""),
            ),
        };
        let Some(marts) = ctx.marts_for_user(db, user, Some(id))? else {
            return Ok(Err(unauthorized));
        };
        let index = which.as_i64().unwrap_or(1).max(1) as usize;
        Ok(marts.into_iter().nth(index - 1).ok_or(not_found))
    }
}

/// rex's `OneOfVal(IntVal(1), StrVal('^latest$'))`.
fn latest_or_index() -> OneOfVal {
    OneOfVal(vec![
        Box::new(IntVal::range(Some(1), None)),
        Box::new(StrVal::pattern("^latest$")),
    ])
}

/// A path parameter of a restful resource: a bad one is a `400` with rex.web's text.
fn restful_param(name: &str, value: &str, validator: &dyn Validator) -> Answer<Node> {
    validator
        .validate(&Node::from_json(&json!(value)))
        .map_err(|e| bad_request_json(&e.wrap_with("While parsing parameter:", name).to_string()))
}

/// rex.restful's payload: JSON bodies (with a JSON `Content-Type`) are decoded, any
/// other body is ignored; the result is validated.
fn parse_payload(req: &Request, validator: &dyn Validator) -> Answer<Value> {
    let mut payload = json!({});
    let json_type = req
        .header("Content-Type")
        .map(|t| t.split(';').next().unwrap_or("").trim())
        .is_some_and(|t| t == "application/json");
    if json_type && !req.body.is_empty() {
        payload = serde_json::from_slice(&req.body).map_err(|e| {
            bad_request_json(&format!(
                "The incoming payload could not be deserialized ({e})"
            ))
        })?;
    }
    validator
        .validate(&Node::from_json(&payload))
        .map(|n| n.to_json())
        .map_err(|e| bad_request_json(&format!("The incoming payload failed validation ({e})")))
}

fn bad_request_json(text: &str) -> Response {
    Response::json_error(400, text)
}

fn unauthorized_json() -> Response {
    Response::json_error(401, http::explanation(401))
}

fn not_found_json() -> Response {
    Response::json_error(404, http::explanation(404))
}

fn server_error(e: &Error) -> Response {
    log::error!(target: "harness.web", "{e}");
    Response::error_page(&Request::default(), 500, "")
}

/// rex.restful's datetime: UTC fields, milliseconds, `Z`.
fn restful_datetime(dt: &chrono::NaiveDateTime) -> String {
    use chrono::Timelike;
    format!(
        "{}.{:03}Z",
        dt.format("%Y-%m-%dT%H:%M:%S"),
        dt.nanosecond() / 1_000_000
    )
}

/// A mart as the API shows it (rex's `Mart.as_dict()`, as its web API answers).
pub fn mart_dict(m: &Mart) -> Value {
    json!({
        "code": m.code,
        "definition": m.definition,
        "owner": m.owner,
        "name": m.name,
        "date_creation_started": restful_datetime(&m.date_creation_started),
        "date_creation_completed": m.date_creation_completed.as_ref().map(restful_datetime),
        "pinned": m.pinned,
        "size": m.size,
    })
}

fn definition_dict(d: &crate::mart::Definition) -> Value {
    json!({ "id": d.id, "label": d.label, "description": d.description })
}

/// An opaque session token (the cookie carries no data: the harness keeps no
/// session state).
fn session_token() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let seed = format!("{now}:{n}:{}", std::process::id());
    format!("{:016x}", crate::pg::fnv1a(seed.as_bytes()))
}
