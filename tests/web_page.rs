//! The page at `/` in a real headless Chromium: with `harness serve` and `harness
//! worker` on one application database, the browser (sending the user header the
//! proxy would) asks for a mart through the page's form and sees the page update by
//! itself as the job is queued, runs and completes and the mart appears.
//!
//! Chromium is driven through the DevTools protocol over `--remote-debugging-pipe`
//! (JSON messages ended by NUL on file descriptors 3 and 4), so no driver is needed.
//! Where Chromium is not installed the test says so and does nothing (CI installs it).

mod mart;

use harness::pg::testing::server;
use mart::TestApp;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn chromium() -> Option<&'static str> {
    ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|c| {
            Command::new(c)
                .arg("--version")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        })
}

/// A child process killed when dropped.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A headless Chromium and one page session on it.
struct Browser {
    _proc: Proc,
    _profile: tempfile::TempDir,
    to: std::fs::File,
    from: BufReader<std::fs::File>,
    next_id: u64,
    session: Option<String>,
}

impl Browser {
    fn start(binary: &str) -> Browser {
        let profile = tempfile::tempdir().unwrap();
        let (to_chrome_r, to_chrome_w) = pipe();
        let (from_chrome_r, from_chrome_w) = pipe();
        let (r3, w4) = (to_chrome_r, from_chrome_w);
        let mut cmd = Command::new(binary);
        cmd.args([
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--remote-debugging-pipe",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("about:blank")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
        // SAFETY: only dup2 between fork and exec.
        unsafe {
            cmd.pre_exec(move || {
                if libc::dup2(r3, 3) < 0 || libc::dup2(w4, 4) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = cmd.spawn().expect("start chromium");
        // SAFETY: closing our copies of the child's ends, opening ours as files.
        let (to, from) = unsafe {
            libc::close(r3);
            libc::close(w4);
            use std::os::fd::FromRawFd;
            (
                std::fs::File::from_raw_fd(to_chrome_w),
                std::fs::File::from_raw_fd(from_chrome_r),
            )
        };
        let mut b = Browser {
            _proc: Proc(child),
            _profile: profile,
            to,
            from: BufReader::new(from),
            next_id: 0,
            session: None,
        };
        let target = b.call("Target.createTarget", json!({"url": "about:blank"}));
        let id = target["targetId"].as_str().unwrap().to_string();
        let attached = b.call(
            "Target.attachToTarget",
            json!({"targetId": id, "flatten": true}),
        );
        b.session = Some(attached["sessionId"].as_str().unwrap().to_string());
        b
    }

    /// Sends one command (to the page session once attached) and returns its result.
    fn call(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut msg = json!({"id": id, "method": method, "params": params});
        if let Some(s) = &self.session {
            msg["sessionId"] = json!(s);
        }
        self.to.write_all(msg.to_string().as_bytes()).unwrap();
        self.to.write_all(b"\0").unwrap();
        loop {
            let mut buf = Vec::new();
            self.from.read_until(0, &mut buf).unwrap();
            assert!(!buf.is_empty(), "chromium closed the pipe");
            buf.pop();
            let reply: Value = serde_json::from_slice(&buf).unwrap();
            if reply["id"] == json!(id) {
                assert!(reply.get("error").is_none(), "{method}: {reply}");
                return reply["result"].clone();
            }
        }
    }

    /// The value of a JavaScript expression in the page.
    fn eval(&mut self, expression: &str) -> Value {
        let r = self.call(
            "Runtime.evaluate",
            json!({"expression": expression, "returnByValue": true}),
        );
        r["result"]["value"].clone()
    }

    /// Waits until `expression` is true in the page; the page's text when it is not.
    fn wait_for(&mut self, expression: &str, timeout: Duration) {
        let end = Instant::now() + timeout;
        while Instant::now() < end {
            if self.eval(expression) == json!(true) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let text = self.eval("document.body ? document.body.innerText : ''");
        panic!(
            "timed out waiting for {expression}; the page says:\n{}",
            text.as_str().unwrap_or("")
        );
    }
}

fn pipe() -> (i32, i32) {
    let mut fds = [0; 2];
    // SAFETY: pipe(2) into a two-int array.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    (fds[0], fds[1])
}

fn harness(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_harness"));
    cmd.args(args).current_dir(env!("CARGO_MANIFEST_DIR"));
    cmd
}

#[test]
fn a_mart_requested_through_the_page_appears_on_it() {
    let Some(binary) = chromium() else {
        eprintln!("web_page: no chromium installed; not run (ci/run installs it)");
        return;
    };
    let t = TestApp::demo();
    let url = server().url(&t.app.db.name);
    let prefix = format!("mart_name_prefix=\"{}\"", t.prefix);
    let common = ["--app", "rex.mart_demo", "--pg-url", &url, "--set", &prefix];
    let mut serve = harness(&["serve", "--listen", "127.0.0.1:0"])
        .args(common)
        .args([
            "--user-header",
            "X-Remote-User",
            "--set",
            "mart_allow_runtime_creation=true",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(serve.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let _serve = Proc(serve);
    let page = line.trim().to_string();
    assert!(page.starts_with("http://"), "serve printed {line:?}");
    let worker = harness(&["worker"])
        .args(common)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _worker = Proc(worker);

    let mut b = Browser::start(binary);
    b.call("Network.enable", json!({}));
    b.call(
        "Network.setExtraHTTPHeaders",
        json!({"headers": {"X-Remote-User": "alice"}}),
    );
    b.call("Page.enable", json!({}));
    b.call("Page.navigate", json!({"url": page}));
    b.wait_for(
        "!!document.querySelector('form select')",
        Duration::from_secs(20),
    );
    assert_eq!(
        b.eval("document.querySelector('h1').innerText"),
        json!("Marts of alice")
    );
    assert_eq!(
        b.eval("document.querySelectorAll('#marts tr').length"),
        json!(1),
        "no marts yet"
    );
    b.eval(
        "document.querySelector('form select').value = 'some_data'; \
         document.querySelector('form button').click(); true",
    );
    // The form posts, the server redirects back to the page; then the page updates
    // itself: the job runs and the mart shows up complete.
    b.wait_for(
        "Array.from(document.querySelectorAll('#jobs td')).some(td => td.innerText == 'rexmart_create')",
        Duration::from_secs(20),
    );
    b.wait_for(
        "Array.from(document.querySelectorAll('#marts tr')).some(tr => \
         tr.innerText.includes('some_data') && tr.innerText.includes('complete'))",
        Duration::from_secs(60),
    );
    b.wait_for(
        "Array.from(document.querySelectorAll('#jobs tr')).some(tr => tr.innerText.includes('completed'))",
        Duration::from_secs(20),
    );
    let marts = t.inventory();
    assert_eq!(marts.len(), 1);
    assert_eq!(
        (marts[0].1.as_str(), marts[0].2.as_str()),
        ("some_data", "alice")
    );
    // The page's own text names the mart's database.
    let text = b.eval("document.querySelector('#marts').innerText");
    assert!(text.as_str().unwrap().contains(&marts[0].3), "{text}");
}
