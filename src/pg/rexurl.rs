//! The database URLs of rex settings (HTSQL's `DB.parse` syntax), parsed in one place:
//! `pgsql:db`, `pgsql://host:port/db`, `pgsql://user:pass@host:port/db?options`,
//! `pgsql://:5433/db`, `pgsql:///db`. `postgresql://` and `postgres://` are read the
//! same way.

use crate::core::{Error, Result};

/// The parts of a rex database URL; absent parts are `None`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RexUrl {
    pub engine: String,
    pub user: Option<String>,
    pub password: Option<String>,
    pub host: Option<String>,
    pub port: Option<u16>,
    pub database: Option<String>,
    /// `?key=value&...`, decoded, in order.
    pub options: Vec<(String, String)>,
}

impl RexUrl {
    pub fn parse(url: &str) -> Result<RexUrl> {
        let bad = |why: &str| Error::with("Ill-formed database URL:", format!("{url} ({why})"));
        let (engine, rest) = url
            .split_once(':')
            .ok_or_else(|| bad("expected engine:..."))?;
        let engine = match engine {
            "pgsql" | "postgresql" | "postgres" => "pgsql".to_string(),
            "" => return Err(bad("missing engine")),
            other => return Err(bad(&format!("unsupported engine {other:?}"))),
        };
        let (rest, query) = match rest.split_once('?') {
            Some((r, q)) => (r, Some(q)),
            None => (rest, None),
        };
        let mut parsed = RexUrl {
            engine,
            ..RexUrl::default()
        };
        if let Some(query) = query {
            for pair in query.split('&').filter(|p| !p.is_empty()) {
                let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                parsed.options.push((decode(k, url)?, decode(v, url)?));
            }
        }
        let path = if let Some(after) = rest.strip_prefix("//") {
            let (authority, path) = match after.find('/') {
                Some(i) => (&after[..i], &after[i + 1..]),
                None => (after, ""),
            };
            let host_port = match authority.rsplit_once('@') {
                Some((userinfo, hp)) => {
                    let (user, password) = match userinfo.split_once(':') {
                        Some((u, p)) => (u, Some(p)),
                        None => (userinfo, None),
                    };
                    parsed.user = nonempty(decode(user, url)?);
                    parsed.password = password.map(|p| decode(p, url)).transpose()?;
                    hp
                }
                None => authority,
            };
            let (host, port) = match host_port.rsplit_once(':') {
                Some((h, p)) if !h.ends_with(']') || host_port.starts_with('[') => (h, Some(p)),
                _ => (host_port, None),
            };
            parsed.host = nonempty(decode(
                host.trim_start_matches('[').trim_end_matches(']'),
                url,
            )?);
            parsed.port = match port {
                None | Some("") => None,
                Some(p) => Some(p.parse().map_err(|_| bad(&format!("bad port {p:?}")))?),
            };
            path
        } else {
            rest
        };
        parsed.database = nonempty(decode(path, url)?);
        Ok(parsed)
    }

    /// True when the URL names no host: it means one of the harness's own clusters.
    pub fn is_local(&self) -> bool {
        self.host.is_none()
    }
}

fn nonempty(s: String) -> Option<String> {
    (!s.is_empty()).then_some(s)
}

/// Percent-decoding (`%2F` -> `/`).
fn decode(s: &str, url: &str) -> Result<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| {
                    Error::with("Ill-formed database URL:", format!("{url} (bad %-escape)"))
                })?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out)
        .map_err(|_| Error::with("Ill-formed database URL:", format!("{url} (not UTF-8)")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(url: &str) -> RexUrl {
        RexUrl::parse(url).unwrap()
    }

    #[test]
    fn short_form_names_a_database_only() {
        let u = p("pgsql:mart_demo");
        assert_eq!(u.database.as_deref(), Some("mart_demo"));
        assert_eq!((u.host, u.port, u.user), (None, None, None));
        assert!(p("pgsql:job_demo").is_local());
    }

    #[test]
    fn empty_host_with_port() {
        let u = p("pgsql://:5433/mart");
        assert_eq!(u.host, None);
        assert_eq!(u.port, Some(5433));
        assert_eq!(u.database.as_deref(), Some("mart"));
        assert!(u.is_local());
        let u = p("pgsql:///mart");
        assert_eq!(
            (u.host, u.port, u.database.as_deref()),
            (None, None, Some("mart"))
        );
    }

    #[test]
    fn full_form_with_credentials_and_options() {
        let u = p("pgsql://bob:s%40cret@db.example.org:6543/asynctask_demo?sslmode=disable");
        assert_eq!(u.user.as_deref(), Some("bob"));
        assert_eq!(u.password.as_deref(), Some("s@cret"));
        assert_eq!(u.host.as_deref(), Some("db.example.org"));
        assert_eq!(u.port, Some(6543));
        assert_eq!(u.database.as_deref(), Some("asynctask_demo"));
        assert_eq!(u.options, vec![("sslmode".into(), "disable".into())]);
        assert!(!u.is_local());
        let u = p("postgresql://postgres@127.0.0.1:55432/postgres");
        assert_eq!(u.host.as_deref(), Some("127.0.0.1"));
        assert_eq!(u.port, Some(55432));
        let u = p("pgsql://host/db");
        assert_eq!((u.host.as_deref(), u.port), (Some("host"), None));
    }

    #[test]
    fn bad_urls_are_errors_not_panics() {
        for url in [
            "mart",
            "mysql://x/y",
            "pgsql://:notaport/x",
            "pgsql:%zz",
            ":x",
        ] {
            let e = RexUrl::parse(url).unwrap_err();
            assert_eq!(e.message(), "Ill-formed database URL:", "{url}");
        }
    }
}
