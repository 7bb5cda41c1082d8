//! `webob` as rex's tests use it: `Request.blank(path, remote_user=..., method=...,
//! POST=..., body=..., headers=...)`, then `req.headers[...] = ...`, `req.body = b'...'`
//! and `req.get_response(rex)`, answered in process by the same handlers `harness
//! serve` runs (`crate::web`). The response has `status`, `status_code`, `headers`,
//! `body`, `text`, `json`, `content_type`, `location`, and prints as webob prints it.

use super::{app_code, app_rules, AppHandle, Session};
use crate::core::app::App;
use crate::mart::Definitions;
use crate::script::native::{arg_str, new_object, state_of, ClassBuilder};
use crate::script::value::{Dict, Exception, Instance, Module, NativeFunction, Value};
use crate::script::Interpreter;
use crate::web::http::{percent_decode, Request, Response};
use crate::web::{Ctx, Rules, Web};
use std::cell::RefCell;
use std::rc::Rc;

/// The web service of each `Rex` object that answered a request.
type Services = RefCell<Vec<(Rc<AppHandle>, Rc<Web>)>>;

pub fn install(interp: &mut Interpreter, session: &Rc<Session>) {
    let response = response_class(interp);
    let services: Rc<Services> = Rc::default();
    let s = session.clone();
    let request = ClassBuilder::new(interp, "Request", "webob.request")
        .method("get_response", move |it, this, a| {
            let app = a.arg(0)?;
            let handle = super::rex_core::handle_of(it, &s, app).ok_or_else(|| {
                Exception::type_error(format!(
                    "get_response() expects a Rex application, got '{}'",
                    app.type_name()
                ))
            })??;
            let web = service(&s, &services, &handle)?;
            let req = read_request(this)?;
            let resp = app_code::with_interpreter(it, || web.handle(&req));
            Ok(new_object(&response, resp))
        })
        .build();
    let class = request.clone();
    request.set(
        "blank",
        NativeFunction::value("Request.blank", move |_, a| {
            let target = arg_str(a.arg(0)?, "Request.blank() path")?;
            let (path, query) = target.split_once('?').unwrap_or((&target, ""));
            let inst = Instance::new(class.clone());
            inst.set("method", Value::str("GET"));
            inst.set("path_info", Value::str(&percent_decode(path)));
            inst.set("query_string", Value::str(query));
            inst.set("body", Value::Bytes(Rc::from(Vec::new())));
            inst.set("remote_user", Value::None);
            inst.set("headers", Value::dict(Dict::new()));
            for (k, v) in &a.kw {
                match &**k {
                    "POST" => post(&inst, v)?,
                    "headers" => {
                        if let Value::Dict(d) = v {
                            let copy = d.borrow().clone();
                            inst.set("headers", Value::dict(copy));
                        }
                    }
                    "method" | "remote_user" | "body" | "content_type" => inst.set(k, v.clone()),
                    other => {
                        return Err(Exception::type_error(format!(
                            "Unexpected keyword: {other}={}",
                            v.type_name()
                        )))
                    }
                }
            }
            Ok(Value::Instance(inst))
        }),
    );
    let m = Module::new("webob");
    m.set("Request", Value::Class(request));
    interp.register_module("webob", m);
}

/// `POST=`: a dict is form-encoded, bytes or text are the body; the method is POST.
fn post(inst: &Instance, v: &Value) -> Result<(), Exception> {
    let body: Vec<u8> = match v {
        Value::Dict(d) => {
            let pairs: Vec<String> = d
                .borrow()
                .items()
                .iter()
                .map(|(k, v)| {
                    let text = |v: &Value| v.as_str().map(form_escape).unwrap_or_default();
                    format!("{}={}", text(k), text(v))
                })
                .collect();
            set_header(inst, "Content-Type", "application/x-www-form-urlencoded");
            pairs.join("&").into_bytes()
        }
        Value::Bytes(b) => b.to_vec(),
        other => arg_str(other, "POST")?.as_bytes().to_vec(),
    };
    inst.set("method", Value::str("POST"));
    inst.set("body", Value::Bytes(Rc::from(body)));
    Ok(())
}

fn form_escape(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            b' ' => "+".into(),
            b => format!("%{b:02X}"),
        })
        .collect()
}

fn set_header(inst: &Instance, name: &str, value: &str) {
    if let Some(Value::Dict(d)) = inst.get("headers") {
        d.borrow_mut().set_str(name, Value::str(value));
    }
}

/// The web service of an application, made once per `Rex` object.
fn service(
    session: &Session,
    services: &Services,
    handle: &Rc<AppHandle>,
) -> Result<Rc<Web>, Exception> {
    if let Some((_, web)) = services
        .borrow()
        .iter()
        .find(|(h, _)| Rc::ptr_eq(h, handle))
    {
        return Ok(web.clone());
    }
    let transport =
        Box::new(|app: &crate::core::app::App| crate::asynctask::get_transport(app, None));
    let web = Web::new(handle.app.clone(), transport, Box::new(AppRules));
    let web = Rc::new(web.map_err(|e| session.raise(e))?);
    services.borrow_mut().push((handle.clone(), web.clone()));
    Ok(web)
}

/// The request the script built, read from the instance's attributes.
fn read_request(this: &Value) -> Result<Request, Exception> {
    let Value::Instance(inst) = this else {
        return Err(Exception::type_error("get_response() needs a Request"));
    };
    let text = |name: &str| -> Result<String, Exception> {
        match inst.get(name) {
            None | Some(Value::None) => Ok(String::new()),
            Some(v) => Ok(arg_str(&v, name)?.to_string()),
        }
    };
    let mut req = Request::new(&text("method")?, &text("path_info")?);
    req.query = text("query_string")?;
    req.user = Some(text("remote_user")?).filter(|u| !u.is_empty());
    req.body = match inst.get("body") {
        Some(Value::Bytes(b)) => b.to_vec(),
        Some(Value::None) | None => Vec::new(),
        Some(v) => arg_str(&v, "body")?.as_bytes().to_vec(),
    };
    if let Some(Value::Dict(d)) = inst.get("headers") {
        for (k, v) in d.borrow().items() {
            let (Some(k), Some(v)) = (k.as_str(), v.as_str()) else {
                return Err(Exception::type_error("header names and values must be str"));
            };
            req.headers.push((k.to_string(), v.to_string()));
        }
    }
    let content_type = text("content_type")?;
    if !content_type.is_empty() && req.header("Content-Type").is_none() {
        req.headers.push(("Content-Type".into(), content_type));
    }
    Ok(req)
}

fn response_class(interp: &Interpreter) -> Rc<crate::script::value::Class> {
    ClassBuilder::new(interp, "Response", "webob.response")
        .method("__str__", |_, this, _| {
            Ok(Value::str(
                &state_of::<Response>(this, "Response")?.webob_text(),
            ))
        })
        .method("__repr__", |_, this, _| {
            let r = state_of::<Response>(this, "Response")?;
            Ok(Value::str(&format!("<Response {}>", r.status_line())))
        })
        .method("__getattr__", |_, this, a| {
            let r = state_of::<Response>(this, "Response")?;
            let name = arg_str(a.arg(0)?, "attribute")?;
            let text = || String::from_utf8_lossy(&r.body).into_owned();
            Ok(match &*name {
                "status" => Value::str(&r.status_line()),
                "status_code" | "status_int" => Value::Int(r.status as i64),
                "body" => Value::Bytes(Rc::from(r.body.clone())),
                "text" => Value::str(&text()),
                "json" | "json_body" => {
                    let v: serde_json::Value = serde_json::from_slice(&r.body).map_err(|e| {
                        Exception::new("ValueError", format!("Response body is not JSON: {e}"))
                    })?;
                    crate::script::native::from_json(&v)
                }
                "headers" => {
                    let mut d = Dict::new();
                    for (k, v) in &r.headers {
                        d.set_str(k, Value::str(v));
                    }
                    Value::dict(d)
                }
                "content_type" => Value::str(
                    r.header("Content-Type")
                        .and_then(|t| t.split(';').next())
                        .unwrap_or(""),
                ),
                "content_length" => Value::Int(r.body.len() as i64),
                "location" => r.header("Location").map_or(Value::None, Value::str),
                _ => {
                    return Err(Exception::new(
                        "AttributeError",
                        format!("'Response' object has no attribute '{name}'"),
                    ))
                }
            })
        })
        .build()
}

/// The application's own mart rules for the web handlers: its subclasses of
/// `rex.mart.MartAccessPermissions` and `MartQuota`, through the mechanism every
/// process shares ([`app_rules::with_app_rules`]). A failure to find them is a `500`.
pub struct AppRules;

impl Rules for AppRules {
    fn with(
        &self,
        app: &App,
        definitions: &Definitions,
        f: &mut dyn FnMut(&mut Ctx) -> Response,
    ) -> Response {
        let result = app_rules::with_app_rules(app, Some(definitions), |rules| {
            f(&mut Ctx {
                access: rules.access,
                quota: rules.quota,
            })
        });
        result.unwrap_or_else(|e| {
            log::error!(target: "harness.web", "{e}");
            Response::error_page(&Request::default(), 500, "")
        })
    }
}
