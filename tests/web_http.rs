//! `harness serve` over real HTTP against the same handlers called in process (what
//! the transcripts' `webob` module does): for every route and status code the two
//! answers agree on status, content type, `Location` and body. Mutations (pin,
//! purge, runtime creation) are checked for their effect in the database.

mod mart;

use harness::mart::{CreateOptions, Mart, MartCreator};
use harness::pg::testing::server;
use harness::web::http::Request;
use harness::web::Web;
use mart::TestApp;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};

/// A `harness serve` process, killed when dropped.
struct Serve {
    child: Child,
    addr: String,
}

impl Serve {
    fn start(t: &TestApp, extra: &[&str]) -> Serve {
        let url = server().url(&t.app.db.name);
        let prefix = format!("mart_name_prefix=\"{}\"", t.prefix);
        let mut child = Command::new(env!("CARGO_BIN_EXE_harness"))
            .args(["serve", "--app", "rex.mart_demo", "--pg-url", &url])
            .args(["--set", &prefix, "--listen", "127.0.0.1:0"])
            .args(extra)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("harness serve");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let addr = line
            .trim()
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_string();
        assert!(!addr.is_empty(), "harness serve printed no address");
        Serve { child, addr }
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What the comparison looks at.
#[derive(Debug, PartialEq)]
struct Answer {
    status: u16,
    content_type: Option<String>,
    location: Option<String>,
    body: String,
}

/// One HTTP/1.1 exchange (`Connection: close`).
fn http(addr: &str, method: &str, target: &str, headers: &[(&str, &str)], body: &[u8]) -> Answer {
    let mut s = TcpStream::connect(addr).unwrap();
    let mut head = format!(
        "{method} {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let header = |name: &str| {
        head.lines()
            .skip(1)
            .filter_map(|l| l.split_once(": "))
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.to_string())
    };
    let cookie = header("set-cookie");
    assert!(status == 413 || cookie.is_some_and(|c| c.starts_with("rex.session=")));
    Answer {
        status,
        content_type: header("content-type"),
        location: header("location"),
        body: body.to_string(),
    }
}

/// The same request answered in process.
fn local(
    web: &Web,
    addr: &str,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Answer {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let mut req = Request::new(method, &harness::web::http::percent_decode(path));
    req.query = query.to_string();
    req.host_url = format!("http://{addr}");
    req.body = body.to_vec();
    for (k, v) in headers {
        req.headers.push((k.to_string(), v.to_string()));
    }
    req.user = req.header("X-Remote-User").map(str::to_string);
    let r = web.handle(&req);
    Answer {
        status: r.status,
        content_type: r.header("Content-Type").map(str::to_string),
        location: r.header("Location").map(str::to_string),
        body: String::from_utf8_lossy(&r.body).into_owned(),
    }
}

fn create(t: &TestApp, owner: &str, definition: &str) -> Mart {
    MartCreator::new(&t.app, owner, definition)
        .unwrap()
        .create(CreateOptions::default(), &[], &mut |_| {})
        .unwrap()
}

/// Method, target, headers, body, expected status.
type Case<'a> = (&'a str, String, &'a [(&'a str, &'a str)], &'a [u8], u16);

#[test]
fn http_answers_as_the_handlers_do_in_process() {
    let mut t = TestApp::demo();
    t.set("mart_allow_runtime_creation", serde_json::json!(true));
    let first = create(&t, "alice", "some_data");
    let second = create(&t, "alice", "some_data");
    let bobs = create(&t, "bob", "some_data");
    let serve = Serve::start(
        &t,
        &[
            "--user-header",
            "X-Remote-User",
            "--set",
            "mart_allow_runtime_creation=true",
        ],
    );
    let rules = Box::new(harness::bindings::webob::AppRules);
    let web = Web::new(
        t.app.clone(),
        Box::new(harness::cli::worker::app_transport),
        rules,
    )
    .unwrap();
    let alice = [("X-Remote-User", "alice")];
    let json = [
        ("X-Remote-User", "alice"),
        ("Content-Type", "application/json"),
    ];
    let f = first.code;
    let b = bobs.code;
    #[rustfmt::skip]
    let same: Vec<Case> = vec![
        ("GET", "/mart".into(), &[], b"", 401),
        ("GET", "/mart".into(), &alice, b"", 200),
        ("GET", "/mart?x=1".into(), &alice, b"", 400),
        ("DELETE", "/mart".into(), &alice, b"", 405),
        ("GET", "/definition".into(), &alice, b"", 200),
        ("GET", "/definition/some_data".into(), &alice, b"", 200),
        ("GET", "/definition/nonesuch".into(), &alice, b"", 404),
        ("GET", format!("/mart/{f}/_api"), &alice, b"", 200),
        ("GET", "/mart/999/_api".into(), &alice, b"", 404),
        ("GET", format!("/mart/{b}/_api"), &alice, b"", 401),
        ("GET", "/mart/x/_api".into(), &alice, b"", 400),
        ("PUT", format!("/mart/{f}/_api"), &json, b"{\"pinned\": false}", 202),
        ("PUT", format!("/mart/{f}/_api"), &json, b"{}", 400),
        ("POST", format!("/mart/{f}/_api"), &alice, b"", 405),
        ("GET", "/definition/some_data/latest/_api".into(), &alice, b"", 200),
        ("GET", "/definition/some_data/2/_api".into(), &alice, b"", 200),
        ("GET", "/definition/some_data/3/_api".into(), &alice, b"", 404),
        ("GET", "/definition/some_data/0/_api".into(), &alice, b"", 400),
        ("GET", format!("/mart/{f}"), &alice, b"", 301),
        ("GET", format!("/mart/{f}/"), &alice, b"", 200),
        ("GET", format!("/mart/{f}/count(foo)"), &alice, b"", 200),
        ("GET", format!("/mart/{f}/foo?col1='Bob'"), &alice, b"", 200),
        ("GET", format!("/mart/{f}/%7Bcount(foo)%7D"), &alice, b"", 200),
        ("POST", format!("/mart/{f}/"), &alice, b"/count(foo)", 200),
        ("GET", format!("/mart/{f}/nonesuch"), &alice, b"", 400),
        ("PUT", format!("/mart/{f}/count(foo)"), &alice, b"", 405),
        ("GET", format!("/mart/{b}/count(foo)"), &alice, b"", 401),
        ("GET", "/mart/999/count(foo)".into(), &alice, b"", 404),
        ("GET", "/definition/some_data/latest/count(foo)".into(), &alice, b"", 200),
        ("GET", "/definition/some_data/9/count(foo)".into(), &alice, b"", 404),
        ("GET", "/definition/some_data/latest".into(), &alice, b"", 301),
        ("GET", "/nowhere".into(), &alice, b"", 404),
        ("GET", "/nowhere".into(), &[("X-Remote-User", "alice"), ("Accept", "text/html")], b"", 404),
        ("GET", "/mart/1".into(), &[("X-Remote-User", "alice"), ("Accept", "application/json")], b"", 301),
        ("POST", "/definition/empty".into(), &json, b"{\"purge\": 1}", 400),
        ("POST", "/definition/empty".into(), &json, b"{}", 202),
        ("GET", "/".into(), &alice, b"", 200),
    ];
    for (method, target, headers, body, status) in &same {
        let over_http = http(&serve.addr, method, target, headers, body);
        let in_process = local(&web, &serve.addr, method, target, headers, body);
        assert_eq!(
            over_http.status, *status,
            "{method} {target}: {over_http:?}"
        );
        assert_eq!(over_http, in_process, "{method} {target}");
    }
    // The in-process service's idle sessions on the marts would hold off their purge.
    drop(web);
    // Two runtime creations were queued, one per side, in the application database.
    let queued: i64 = t
        .client()
        .query_one(
            "SELECT count(*) FROM asynctask.asynctask_queue WHERE queue_name = 'rexmart_create'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(queued, 2);
    // Pin, then purge, over HTTP.
    let pin = http(
        &serve.addr,
        "PUT",
        "/definition/some_data/2/_api",
        &json,
        b"{\"pinned\": true}",
    );
    assert_eq!(pin.status, 202);
    assert!(
        harness::mart::inventory::get(&mut t.client(), first.code)
            .unwrap()
            .unwrap()
            .pinned
    );
    let gone = http(
        &serve.addr,
        "DELETE",
        &format!("/mart/{}/_api", second.code),
        &alice,
        b"",
    );
    assert_eq!((gone.status, gone.body.as_str()), (204, ""));
    assert!(harness::mart::inventory::get(&mut t.client(), second.code)
        .unwrap()
        .is_none());
    assert!(!mart::db_exists(server(), &second.name));
    assert_eq!(
        http(
            &serve.addr,
            "DELETE",
            &format!("/mart/{b}/_api"),
            &alice,
            b""
        )
        .status,
        401
    );
    let huge = vec![b'x'; (1 << 20) + 1];
    assert_eq!(
        http(&serve.addr, "POST", "/mart/1/", &alice, &huge).status,
        413
    );
}

#[test]
fn without_a_user_header_every_request_is_refused() {
    let t = TestApp::demo();
    let serve = Serve::start(&t, &[]);
    for target in ["/", "/mart", "/definition", "/mart/1/_api"] {
        let a = http(
            &serve.addr,
            "GET",
            target,
            &[("X-Remote-User", "alice")],
            b"",
        );
        assert_eq!(a.status, 401, "{target}");
    }
}
