//! Who the client is behind a reverse proxy. Only a proxy named by `--trusted-proxy` is
//! believed: from it, the client is the nearest address in `X-Forwarded-For` that is not itself
//! a trusted proxy, and `X-Forwarded-Proto: https` counts as TLS. From anyone else those headers
//! are ignored (a client could write them).

use axum::http::HeaderMap;
use std::net::IpAddr;

/// The client's address and whether it reached the server over TLS.
pub fn client(
    peer: Option<IpAddr>,
    headers: &HeaderMap,
    trusted: &[IpAddr],
    over_tls: bool,
) -> (String, bool) {
    let Some(peer) = peer else {
        return ("unknown".into(), over_tls);
    };
    if !trusted.contains(&peer) {
        return (peer.to_string(), over_tls);
    }
    let chain: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|hop| hop.trim().parse().ok())
        .collect();
    let client = chain
        .iter()
        .rev()
        .find(|hop| !trusted.contains(hop))
        .or(chain.first())
        .copied()
        .unwrap_or(peer);
    let https = headers
        .get_all("x-forwarded-proto")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .next_back()
        .is_some_and(|proto| proto.trim().eq_ignore_ascii_case("https"));
    (client.to_string(), over_tls || https)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::headers;

    const PROXY: &str = "10.0.0.2";

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn a_trusted_proxy_names_the_client_and_the_scheme() {
        let h = headers(&[
            ("x-forwarded-for", "198.51.100.1, 203.0.113.7"),
            ("x-forwarded-proto", "https"),
        ]);
        assert_eq!(
            client(Some(ip(PROXY)), &h, &[ip(PROXY)], false),
            ("203.0.113.7".into(), true)
        );
    }

    #[test]
    fn a_chain_of_trusted_proxies_is_walked_back_to_the_client() {
        let h = headers(&[("x-forwarded-for", "203.0.113.7, 10.0.0.3")]);
        let trusted = [ip(PROXY), ip("10.0.0.3")];
        assert_eq!(
            client(Some(ip(PROXY)), &h, &trusted, false),
            ("203.0.113.7".into(), false)
        );
    }

    #[test]
    fn anyone_else_cannot_claim_an_address_or_tls() {
        let h = headers(&[
            ("x-forwarded-for", "203.0.113.7"),
            ("x-forwarded-proto", "https"),
        ]);
        assert_eq!(
            client(Some(ip("192.0.2.9")), &h, &[ip(PROXY)], false),
            ("192.0.2.9".into(), false)
        );
    }
}
