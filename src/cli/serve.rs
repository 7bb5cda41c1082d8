//! `harness serve`: rex.mart's web API and the page at `/` over HTTP (axum on tokio).
//! Handlers are `crate::web`'s, run on tokio's blocking pool since they talk to
//! PostgreSQL synchronously. Who the user is comes from one request header that a
//! trusted reverse proxy sets after authenticating (`--user-header`, rex's
//! `REMOTE_USER`); without the flag every request is refused `401`.

use super::app::AppArgs;
use crate::web::http::{percent_decode, Request, Response};
use crate::web::Web;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use clap::Args;
use std::sync::Arc;

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub app: AppArgs,
    /// The address to listen on (port 0: any free port; the address is printed).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// The request header that names the authenticated user, set by the reverse
    /// proxy in front (e.g. X-Remote-User). Without it every request is refused 401.
    #[arg(long, value_name = "NAME")]
    pub user_header: Option<String>,
}

/// The largest request body read (1 MiB); a larger one is refused `413`.
const MAX_BODY: usize = 1 << 20;

struct Served {
    web: Web,
    user_header: Option<String>,
}

pub fn run(args: &ServeArgs) -> i32 {
    crate::core::logging::install(crate::core::logging::Format::Timestamped);
    let user_header = match &args.user_header {
        Some(h) if HeaderName::from_bytes(h.as_bytes()).is_err() => {
            eprintln!("harness serve: error: not a header name: {h:?}");
            return 2;
        }
        h => h.clone(),
    };
    let web = match args.app.open().and_then(|app| {
        let rules = Box::new(crate::bindings::webob::AppRules);
        Web::new(app, Box::new(super::worker::app_transport), rules)
    }) {
        Ok(web) => web,
        Err(e) => {
            eprintln!("harness serve: error: {e}");
            return 2;
        }
    };
    let served = Arc::new(Served { web, user_header });
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_io()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("harness serve: error: {e}");
            return 1;
        }
    };
    runtime.block_on(async move {
        let listener = match tokio::net::TcpListener::bind(&args.listen).await {
            Ok(l) => l,
            Err(e) => {
                eprintln!(
                    "harness serve: error: cannot listen on {}: {e}",
                    args.listen
                );
                return 2;
            }
        };
        match listener.local_addr() {
            Ok(addr) => println!("http://{addr}/"),
            Err(e) => eprintln!("harness serve: {e}"),
        }
        if served.user_header.is_none() {
            eprintln!("harness serve: no --user-header: every request is refused 401");
        }
        let router = axum::Router::new()
            .fallback(handle)
            .with_state(served.clone());
        match axum::serve(listener, router).await {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("harness serve: error: {e}");
                1
            }
        }
    })
}

async fn handle(
    State(served): State<Arc<Served>>,
    request: axum::http::Request<Body>,
) -> axum::response::Response {
    let (parts, body) = request.into_parts();
    // Bodies are small JSON payloads, HTSQL queries and the page's form.
    let Ok(body) = axum::body::to_bytes(body, MAX_BODY).await else {
        let text = "413 Request Entity Too Large\n";
        let mut r = axum::response::Response::new(Body::from(text));
        *r.status_mut() = StatusCode::PAYLOAD_TOO_LARGE;
        return r;
    };
    let req = to_request(&served, &parts, body);
    let answer = tokio::task::spawn_blocking(move || served.web.handle(&req)).await;
    let resp = answer.unwrap_or_else(|_| Response::error_page(&Request::default(), 500, ""));
    from_response(resp)
}

fn to_request(served: &Served, parts: &axum::http::request::Parts, body: Bytes) -> Request {
    let mut req = Request::new(parts.method.as_str(), &percent_decode(parts.uri.path()));
    req.query = parts.uri.query().unwrap_or("").to_string();
    req.body = body.to_vec();
    for (name, value) in &parts.headers {
        if let Ok(v) = value.to_str() {
            req.headers.push((name.as_str().to_string(), v.to_string()));
        }
    }
    req.user = served
        .user_header
        .as_deref()
        .and_then(|h| req.header(h))
        .map(str::to_string)
        .filter(|u| !u.is_empty());
    if let Some(host) = req.header("Host").map(str::to_string) {
        req.host_url = format!("http://{host}");
    }
    req
}

fn from_response(resp: Response) -> axum::response::Response {
    let mut out = axum::response::Response::new(Body::from(resp.body));
    *out.status_mut() = StatusCode::from_u16(resp.status).unwrap_or(StatusCode::OK);
    for (name, value) in resp.headers {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            out.headers_mut().append(n, v);
        }
    }
    out
}
