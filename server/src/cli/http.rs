//! A small blocking HTTP/1.1 client for the CLI: one JSON request per connection to a Drydock
//! server, which is plain HTTP on a trusted network or loopback (put TLS in front of it for
//! anything else). No client library is needed for that.

use serde_json::Value;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

pub struct Server {
    host: String,
    port: u16,
    /// The whole `Authorization` header value, if any.
    authorization: Option<String>,
}

pub struct Response {
    pub status: u16,
    pub body: Value,
}

impl Server {
    /// Parses `http://host:port` (a path or trailing slash is ignored).
    pub fn parse(url: &str) -> Result<Self, String> {
        let rest = url
            .strip_prefix("http://")
            .ok_or_else(|| format!("the server URL '{url}' must start with http://"))?;
        let authority = rest.split('/').next().unwrap_or_default();
        let (host, port) = match authority.rsplit_once(':') {
            Some((host, port)) => (
                host,
                port.parse()
                    .map_err(|_| format!("'{port}' is not a port number"))?,
            ),
            None => (authority, 80),
        };
        if host.is_empty() {
            return Err(format!("the server URL '{url}' names no host"));
        }
        Ok(Self {
            host: host.to_owned(),
            port,
            authorization: None,
        })
    }

    /// Sends `Authorization: <value>` with every request.
    pub fn authorized(mut self, value: Option<String>) -> Self {
        self.authorization = value;
        self
    }

    pub fn send(&self, method: &str, path: &str, body: Option<&Value>) -> Result<Response, String> {
        let address = format!("{}:{}", self.host, self.port);
        let mut stream = TcpStream::connect(&address)
            .map_err(|e| format!("cannot reach the Drydock server at {address}: {e}"))?;
        stream
            .set_read_timeout(Some(Duration::from_secs(60)))
            .map_err(|e| e.to_string())?;
        let body = body.map(Value::to_string).unwrap_or_default();
        let authorization = self
            .authorization
            .as_ref()
            .map(|value| format!("Authorization: {value}\r\n"))
            .unwrap_or_default();
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\n{authorization}Accept: application/json\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.host,
            body.len()
        );
        stream
            .write_all(request.as_bytes())
            .map_err(|e| e.to_string())?;
        let mut raw = Vec::new();
        stream
            .read_to_end(&mut raw)
            .map_err(|e| format!("reading the answer failed: {e}"))?;
        parse_response(&raw)
    }
}

fn parse_response(raw: &[u8]) -> Result<Response, String> {
    let text = String::from_utf8_lossy(raw);
    let (head, payload) = text
        .split_once("\r\n\r\n")
        .ok_or("the server sent no HTTP response")?;
    let status = head
        .get(9..12)
        .and_then(|s| s.parse().ok())
        .ok_or("the server sent no HTTP status")?;
    let chunked = head.lines().any(|l| {
        l.to_ascii_lowercase()
            .starts_with("transfer-encoding: chunked")
    });
    let payload = if chunked {
        dechunk(payload)
    } else {
        payload.to_owned()
    };
    let body = if payload.trim().is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&payload).map_err(|e| format!("the server sent invalid JSON: {e}"))?
    };
    Ok(Response { status, body })
}

fn dechunk(mut payload: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = payload.split_once("\r\n") {
        let Ok(size) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if size == 0 || rest.len() < size {
            break;
        }
        out.push_str(&rest[..size]);
        payload = rest[size..].trim_start_matches("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_server_urls() {
        let s = Server::parse("http://127.0.0.1:3000/").unwrap();
        assert_eq!((s.host.as_str(), s.port), ("127.0.0.1", 3000));
        assert_eq!(Server::parse("http://drydock").unwrap().port, 80);
        assert!(Server::parse("https://x").is_err());
        assert!(Server::parse("http://:3000").is_err());
    }

    #[test]
    fn reads_plain_and_chunked_answers() {
        let plain =
            parse_response(b"HTTP/1.1 201 Created\r\ncontent-length: 8\r\n\r\n{\"a\": 1}").unwrap();
        assert_eq!((plain.status, plain.body["a"].as_i64()), (201, Some(1)));
        let chunked = parse_response(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n4\r\n{\"a\"\r\n3\r\n: 2\r\n1\r\n}\r\n0\r\n\r\n").unwrap();
        assert_eq!(chunked.body["a"], 2);
    }
}
