//! What a browser must not be able to do on an admin's behalf.
//!
//! - **DNS rebinding**: a page on `evil.example` whose name is re-pointed at 127.0.0.1 reaches
//!   this server with `Host: evil.example`. Requests are answered only when `Host` is a loopback
//!   name or a name given with `--public-url`; others get 421.
//! - **Cross-site writes**: a form on another site can post to `/fn/start_run` with the admin's
//!   cookie. A write (any method but GET, HEAD and OPTIONS) is refused when the browser says it
//!   comes from another site: `Sec-Fetch-Site` (sent by every current browser) decides when
//!   present, `Origin` otherwise. Requests with a bearer token are exempt: a browser never adds
//!   one to a cross-site request by itself (it does add remembered Basic credentials, so those
//!   are not exempt). Clients that are not browsers send neither header and are not affected.
//! - **Framing, sniffing, leaking URLs**: every answer says `nosniff`, may not be framed, and
//!   sends no referrer to other sites.

use crate::rest::ApiError;
use app::model::error::{AppError, ErrorKind};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::collections::BTreeSet;
use std::sync::Arc;

/// The names a request's `Host` may carry besides loopback ones.
#[derive(Debug, Clone, Default)]
pub struct AllowedHosts {
    public: BTreeSet<String>,
}

impl AllowedHosts {
    /// From `--public-url` values such as `https://drydock.example.com` (a port and a path are
    /// allowed and ignored).
    pub fn from_public_urls(urls: &[String]) -> Result<Self, String> {
        let mut public = BTreeSet::new();
        for url in urls {
            let rest = url
                .strip_prefix("https://")
                .or_else(|| url.strip_prefix("http://"))
                .ok_or_else(|| {
                    format!("--public-url {url:?} must start with https:// or http://")
                })?;
            let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
            let host = host_without_port(authority).to_ascii_lowercase();
            if host.is_empty() || host.contains('@') {
                return Err(format!("--public-url {url:?} does not name a host"));
            }
            public.insert(host);
        }
        Ok(Self { public })
    }

    /// Whether a request naming `host` (as in its `Host` header, maybe with a port) is for us.
    pub fn allows(&self, host: &str) -> bool {
        let name = host_without_port(host).to_ascii_lowercase();
        is_loopback(&name) || self.public.contains(&name)
    }

    fn is_public(&self, host: &str) -> bool {
        self.public
            .contains(&host_without_port(host).to_ascii_lowercase())
    }
}

/// `example.com:3000` → `example.com`; `[::1]:3000` → `[::1]`.
fn host_without_port(authority: &str) -> &str {
    if authority.starts_with('[') {
        return match authority.find(']') {
            Some(end) => &authority[..=end],
            None => authority,
        };
    }
    authority.split(':').next().unwrap_or_default()
}

fn is_loopback(name: &str) -> bool {
    name == "localhost"
        || name.ends_with(".localhost")
        || name == "[::1]"
        || name
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

pub async fn browser_guard(
    State(hosts): State<Arc<AllowedHosts>>,
    request: Request,
    next: Next,
) -> Response {
    let over_tls = request.extensions().get::<crate::tls::OverTls>().is_some();
    let mut response = match refusal(&hosts, request.method(), request.headers()) {
        Some(refused) => refused,
        None => next.run(request).await,
    };
    protect(response.headers_mut());
    if over_tls {
        // Served over HTTPS: browsers keep to it for a year (not for subdomains, which may be
        // other people's).
        response.headers_mut().insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    response
}

fn refusal(hosts: &AllowedHosts, method: &Method, headers: &HeaderMap) -> Option<Response> {
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    if let Some(host) = host
        && !hosts.allows(host)
    {
        return Some(refused(
            StatusCode::MISDIRECTED_REQUEST,
            AppError::new(
                ErrorKind::Invalid,
                "UnknownHost",
                format!(
                    "This server does not answer for {host:?}; to reach it by that name, start it with --public-url naming it."
                ),
            ),
        ));
    }
    if cross_site(method, headers, host, hosts) {
        return Some(refused(
            StatusCode::FORBIDDEN,
            AppError::new(
                ErrorKind::Invalid,
                "CrossSiteRequest",
                "Another site asked the browser to change something here; Drydock refuses writes that do not come from its own pages.",
            ),
        ));
    }
    None
}

/// Whether a write comes from another site, as far as the browser tells.
fn cross_site(
    method: &Method,
    headers: &HeaderMap,
    host: Option<&str>,
    hosts: &AllowedHosts,
) -> bool {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("Bearer "));
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) || bearer {
        return false;
    }
    if let Some(site) = headers.get("sec-fetch-site") {
        // `none`: the user typed it or used a bookmark; `same-site` is a sibling subdomain,
        // which is another application and not to be trusted.
        return !matches!(site.to_str(), Ok("same-origin" | "none"));
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return false;
    };
    let Some(origin_host) = origin
        .to_str()
        .ok()
        .and_then(|o| o.split_once("://"))
        .map(|(_, authority)| authority)
    else {
        return true; // `Origin: null` (sandboxed frames, some redirects) is nobody we know.
    };
    let same_as_host = host.is_some_and(|h| h.eq_ignore_ascii_case(origin_host));
    !(same_as_host || hosts.is_public(origin_host))
}

fn refused(status: StatusCode, error: AppError) -> Response {
    let mut response = ApiError(error).into_response();
    *response.status_mut() = status;
    response
}

/// Headers every answer carries. Pages add their own Content-Security-Policy with script
/// hashes; this one stands for everything else (JSON, files, errors).
fn protect(headers: &mut HeaderMap) {
    let fixed = [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "same-origin"),
    ];
    for (name, value) in fixed {
        headers.insert(name, HeaderValue::from_static(value));
    }
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(BASE_POLICY),
        );
    }
}

/// What a non-page answer may do: nothing but be looked at.
pub const BASE_POLICY: &str =
    "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::headers;

    #[test]
    fn loopback_and_public_names_are_ours() {
        let hosts = AllowedHosts::from_public_urls(&["https://Drydock.Example.com:8443/ui".into()])
            .unwrap();
        for host in [
            "localhost:3000",
            "127.0.0.1:3000",
            "127.8.9.1",
            "[::1]:3000",
            "app.localhost",
            "drydock.example.com",
            "DRYDOCK.example.com:443",
        ] {
            assert!(hosts.allows(host), "{host}");
        }
        for host in [
            "evil.example",
            "192.168.1.10:3000",
            "[::2]:3000",
            "localhost.evil.example",
            "",
        ] {
            assert!(!hosts.allows(host), "{host}");
        }
    }

    #[test]
    fn public_urls_must_be_urls() {
        assert!(AllowedHosts::from_public_urls(&["drydock.example.com".into()]).is_err());
        assert!(AllowedHosts::from_public_urls(&["https://".into()]).is_err());
        assert!(AllowedHosts::from_public_urls(&["https://user@host".into()]).is_err());
    }

    #[test]
    fn reads_are_never_cross_site_refusals() {
        let hosts = AllowedHosts::default();
        let evil = headers(&[
            ("origin", "https://evil.example"),
            ("sec-fetch-site", "cross-site"),
        ]);
        assert!(!cross_site(&Method::GET, &evil, Some("localhost"), &hosts));
        assert!(cross_site(&Method::POST, &evil, Some("localhost"), &hosts));
    }

    #[test]
    fn sec_fetch_site_decides_when_present() {
        let hosts = AllowedHosts::default();
        let host = Some("localhost:3000");
        let post = |pairs| cross_site(&Method::POST, &headers(pairs), host, &hosts);
        assert!(!post(&[("sec-fetch-site", "same-origin")]));
        assert!(!post(&[("sec-fetch-site", "none")]));
        assert!(post(&[("sec-fetch-site", "same-site")]));
        assert!(post(&[("sec-fetch-site", "cross-site")]));
        // Even with a matching Origin: the browser's own verdict wins.
        assert!(post(&[
            ("sec-fetch-site", "cross-site"),
            ("origin", "http://localhost:3000")
        ]));
    }

    #[test]
    fn origin_must_be_the_host_or_a_public_name() {
        let hosts =
            AllowedHosts::from_public_urls(&["https://drydock.example.com".into()]).unwrap();
        let host = Some("localhost:3000");
        let post = |pairs| cross_site(&Method::POST, &headers(pairs), host, &hosts);
        assert!(!post(&[("origin", "http://localhost:3000")]));
        assert!(!post(&[("origin", "https://drydock.example.com")]));
        assert!(post(&[("origin", "http://localhost:3001")]));
        assert!(post(&[("origin", "https://evil.example")]));
        assert!(post(&[("origin", "null")]));
        // Scripts: neither header.
        assert!(!post(&[]));
    }

    #[test]
    fn bearer_requests_are_exempt_but_basic_ones_are_not() {
        let hosts = AllowedHosts::default();
        let h = headers(&[
            ("origin", "https://evil.example"),
            ("authorization", "Bearer x"),
        ]);
        assert!(!cross_site(&Method::POST, &h, Some("localhost"), &hosts));
        // A browser replays remembered Basic credentials on a cross-site form post.
        let h = headers(&[
            ("origin", "https://evil.example"),
            ("authorization", "Basic eDp5"),
        ]);
        assert!(cross_site(&Method::POST, &h, Some("localhost"), &hosts));
    }
}
