//! The HTTP API (SPEC §3) as the command speaks it (SPEC §12): SigV4 with
//! the standard AWS chain, a bearer token, or the local stack's headers;
//! https to real endpoints, http only to loopback (the local stack). Each
//! call answers the API's JSON, or a [`ClientError`] a person can act on.

mod error;
mod owned;
mod sigv4;

use std::fmt;
use std::time::Duration;

use http_body_util::{BodyExt as _, Full, Limited};
use hyper::body::Bytes;
use hyper::http::{HeaderValue, Method, Request, StatusCode, Uri, header};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client as Hyper;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;

pub use error::ClientError;
use error::{Answered, one_line};
pub use owned::caller_owned;
pub use sigv4::{SERVICE, region_of_host, sign_at};

/// Which collection a resource lives in: the files' kind, whose folder is
/// the API's collection (`plans`, `workloads`).
pub use crate::files::Kind;

/// A connection not made within this is given up: the endpoint is unreachable.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// A request not answered within this (name resolution and TLS included) is
/// given up.
pub const ANSWER_TIMEOUT: Duration = Duration::from_secs(30);
/// The most times one request is sent while its answers are [`transient`].
pub const ATTEMPTS: u32 = 4;
/// The wait before the second try; each later wait is twice the one before
/// (0.1 + 0.2 + 0.4 s in all).
pub const BACKOFF: Duration = Duration::from_millis(100);
/// The API's largest page (SPEC §3: `limit` ≤ 100).
pub const MAX_PAGE: u32 = 100;
/// The longest answer read: a page of 100 plans of ≤ 64 KiB each, and some.
const MAX_ANSWER_BYTES: usize = 16 * 1024 * 1024;

/// How the command proves who it is (SPEC §12).
#[derive(Clone, PartialEq, Eq)]
pub enum Auth {
    /// SigV4 for `execute-api` with the standard AWS credential chain
    /// (the stack's `AuthMode=IAM`).
    Sigv4,
    /// `Authorization: Bearer TOKEN` (`AuthMode=JWT`): `--token` /
    /// `SUPPORT_PLANS_TOKEN`. Never shown.
    Bearer(String),
    /// The local stack's `x-local-principal` / `x-local-groups` (`--as`,
    /// `--groups`): honoured only where `LOCAL_AUTH=1`, so loopback only.
    Local { principal: String, groups: Vec<String> },
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sigv4 => f.write_str("Sigv4"),
            Self::Bearer(_) => f.write_str("Bearer(<redacted>)"),
            Self::Local { principal, groups } => f
                .debug_struct("Local")
                .field("principal", principal)
                .field("groups", groups)
                .finish(),
        }
    }
}

/// The version a resource was read at, as its `ETag` said (`"3"`); what a
/// replace or retire names in `If-Match`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Etag(String);

impl Etag {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Etag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for Etag {
    fn from(s: &str) -> Self {
        Self(s.to_owned())
    }
}

/// What a request carries to say who sends it.
#[derive(Clone)]
enum Credentials {
    Sigv4(sigv4::Signer),
    /// The whole `Authorization` value, marked sensitive.
    Bearer(HeaderValue),
    Local {
        principal: HeaderValue,
        groups: Option<HeaderValue>,
    },
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sigv4(s) => f.debug_tuple("Sigv4").field(s).finish(),
            Self::Bearer(_) => f.write_str("Bearer(<redacted>)"),
            Self::Local { principal, groups } => f
                .debug_struct("Local")
                .field("principal", principal)
                .field("groups", groups)
                .finish(),
        }
    }
}

/// http to loopback, https elsewhere: two connectors, so the platform's
/// roots are read only for https.
#[derive(Debug, Clone)]
enum Transport {
    Plain(Hyper<HttpConnector, Full<Bytes>>),
    Tls(Hyper<HttpsConnector<HttpConnector>, Full<Bytes>>),
}

impl Transport {
    fn new(tls: bool, connect_timeout: Duration) -> Result<Self, String> {
        let mut http = HttpConnector::new();
        http.set_connect_timeout(Some(connect_timeout));
        let builder = Hyper::builder(TokioExecutor::new());
        if !tls {
            return Ok(Self::Plain(builder.build(http)));
        }
        http.enforce_http(false);
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_native_roots()
            .map_err(|e| format!("loading the platform's root certificates: {e}"))?
            .https_only()
            .enable_http1()
            .wrap_connector(http);
        Ok(Self::Tls(builder.build(https)))
    }

    async fn request(
        &self,
        request: Request<Full<Bytes>>,
    ) -> Result<hyper::Response<hyper::body::Incoming>, hyper_util::client::legacy::Error> {
        match self {
            Self::Plain(c) => c.request(request).await,
            Self::Tls(c) => c.request(request).await,
        }
    }
}

/// The API at one endpoint, as one caller. Cheap to clone (one connection
/// pool); shows no secret in `Debug`.
#[derive(Debug, Clone)]
pub struct Client {
    /// The endpoint as given, without a trailing `/`: in messages.
    endpoint: String,
    host: HeaderValue,
    tls: bool,
    transport: Transport,
    credentials: Credentials,
    page_size: u32,
    answer_timeout: Duration,
}

/// One answer: its status, its `ETag` and its body.
#[derive(Debug)]
struct Answer {
    status: StatusCode,
    etag: Option<Etag>,
    body: Bytes,
}

impl Client {
    /// A client of the API at `endpoint` (like
    /// `https://ID.execute-api.REGION.amazonaws.com`, a custom domain, or
    /// the local stack's `http://127.0.0.1:PORT/lambda-url/plans-api`).
    /// With [`Auth::Sigv4`] the AWS configuration is loaded here and the
    /// credentials on the first request.
    pub async fn new(endpoint: &str, auth: Auth) -> Result<Self, ClientError> {
        let endpoint = endpoint.trim().trim_end_matches('/').to_owned();
        let bad = |reason: &str| ClientError::Endpoint {
            endpoint: endpoint.clone(),
            reason: reason.to_owned(),
        };
        let uri: Uri = endpoint
            .parse()
            .map_err(|_| bad("not a URL; expected https://HOST[/STAGE]"))?;
        let authority = uri
            .authority()
            .ok_or_else(|| bad("not a URL; expected https://HOST[/STAGE]"))?;
        if authority.as_str().contains('@') {
            return Err(bad(
                "must not carry credentials (user:password@); use --token or SigV4",
            ));
        }
        if uri.query().is_some() || endpoint.contains('#') {
            return Err(bad("must not carry a query or a fragment"));
        }
        let loopback = is_loopback(authority.host());
        let tls = match uri.scheme_str() {
            Some("https") => true,
            Some("http") if loopback => false,
            Some("http") => {
                return Err(bad(
                    "http is only for the local stack (127.0.0.1, localhost); use https",
                ));
            }
            _ => return Err(bad("must start with https://")),
        };
        let credentials = match auth {
            Auth::Sigv4 => Credentials::Sigv4(sigv4::Signer::from_chain(authority.host()).await?),
            Auth::Bearer(token) => {
                let token = token.trim();
                if token.is_empty() {
                    return Err(ClientError::Credentials("the bearer token is empty".into()));
                }
                let mut value = HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| {
                    ClientError::Credentials("the bearer token holds characters a header cannot carry".into())
                })?;
                value.set_sensitive(true);
                Credentials::Bearer(value)
            }
            Auth::Local { principal, groups } => {
                if !loopback {
                    return Err(bad(
                        "--as/--groups are the local stack's identity and work only there \
                         (127.0.0.1, localhost); use SigV4 or --token",
                    ));
                }
                let principal = HeaderValue::from_str(principal.trim())
                    .ok()
                    .filter(|p| !p.is_empty())
                    .ok_or_else(|| {
                        ClientError::Credentials("the local principal must be a non-empty name or ARN".into())
                    })?;
                let groups: Vec<&str> = groups
                    .iter()
                    .map(|g| g.trim())
                    .filter(|g| !g.is_empty())
                    .collect();
                let groups = (!groups.is_empty())
                    .then(|| HeaderValue::from_str(&groups.join(",")))
                    .transpose()
                    .map_err(|_| {
                        ClientError::Credentials(
                            "a local group holds characters a header cannot carry".into(),
                        )
                    })?;
                Credentials::Local { principal, groups }
            }
        };
        let host = HeaderValue::from_str(authority.as_str()).map_err(|_| bad("the host is not valid"))?;
        let transport = Transport::new(tls, CONNECT_TIMEOUT).map_err(|reason| ClientError::Endpoint {
            endpoint: endpoint.clone(),
            reason,
        })?;
        Ok(Self {
            endpoint,
            host,
            tls,
            transport,
            credentials,
            page_size: MAX_PAGE,
            answer_timeout: ANSWER_TIMEOUT,
        })
    }

    /// The endpoint, as messages name it.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The region requests are signed for (SigV4 only).
    pub fn signing_region(&self) -> Option<&str> {
        match &self.credentials {
            Credentials::Sigv4(s) => Some(s.region()),
            _ => None,
        }
    }

    /// Pages of `n` items (1–100) when listing; 100 unless set.
    #[must_use]
    pub fn with_page_size(mut self, n: u32) -> Self {
        self.page_size = n.clamp(1, MAX_PAGE);
        self
    }

    /// Gives up connecting after `connect` and waiting for an answer after
    /// `answer` ([`CONNECT_TIMEOUT`], [`ANSWER_TIMEOUT`] unless set).
    pub fn with_timeouts(mut self, connect: Duration, answer: Duration) -> Result<Self, ClientError> {
        self.transport = Transport::new(self.tls, connect).map_err(|reason| ClientError::Endpoint {
            endpoint: self.endpoint.clone(),
            reason,
        })?;
        self.answer_timeout = answer;
        Ok(self)
    }

    /// One plan and the `ETag` of the version read; `None` when there is none.
    pub async fn get_plan(&self, id: &str) -> Result<Option<(Value, Etag)>, ClientError> {
        self.get(Kind::Plan, id).await
    }

    /// One workload and the `ETag` of the version read; `None` when there is none.
    pub async fn get_workload(&self, name: &str) -> Result<Option<(Value, Etag)>, ClientError> {
        self.get(Kind::Workload, name).await
    }

    /// Every plan (active and retired), following the API's cursors.
    pub async fn list_plans(&self) -> Result<Vec<Value>, ClientError> {
        self.list(Kind::Plan).await
    }

    /// Every workload (active and retired), following the API's cursors.
    pub async fn list_workloads(&self) -> Result<Vec<Value>, ClientError> {
        self.list(Kind::Workload).await
    }

    /// `GET /plans/{id}` or `/workloads/{name}`: the resource as the API
    /// answers it (a plan with its `freshness`) and its `ETag`; `None` on
    /// the API's 404.
    pub async fn get(&self, kind: Kind, key: &str) -> Result<Option<(Value, Etag)>, ClientError> {
        let path = format!("/{}/{}", kind.folder(), encode(key));
        let answer = self.send(Method::GET, &path, None, None).await?;
        match answer.status {
            StatusCode::OK => answer.with_etag().map(Some),
            StatusCode::NOT_FOUND => match answer.error() {
                ClientError::NotFound(_) => Ok(None),
                other => Err(other),
            },
            _ => Err(answer.error()),
        }
    }

    /// `GET /plans` or `/workloads`, every page: `limit` and `cursor` as
    /// the API takes them, `next_cursor` as it answers.
    pub async fn list(&self, kind: Kind) -> Result<Vec<Value>, ClientError> {
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut path = format!("/{}?limit={}", kind.folder(), self.page_size);
            if let Some(c) = &cursor {
                path.push_str("&cursor=");
                path.push_str(&encode(c));
            }
            let answer = self.send(Method::GET, &path, None, None).await?;
            if answer.status != StatusCode::OK {
                return Err(answer.error());
            }
            let mut page = answer.json()?;
            let Some(Value::Array(found)) = page.get_mut("items").map(Value::take) else {
                return Err(ClientError::Other(
                    200,
                    format!("a page of {} without its items", kind.folder()),
                ));
            };
            items.extend(found);
            match page.get("next_cursor").and_then(Value::as_str) {
                Some(next) if cursor.as_deref() == Some(next) => {
                    return Err(ClientError::Other(
                        200,
                        format!(
                            "the API answered the same cursor twice while listing {}",
                            kind.folder()
                        ),
                    ));
                }
                Some(next) => cursor = Some(next.to_owned()),
                None => return Ok(items),
            }
        }
    }

    /// `GET /readiness`: the readiness figures (SPEC §6) as the API answers them.
    pub async fn readiness(&self) -> Result<Value, ClientError> {
        let answer = self.send(Method::GET, "/readiness", None, None).await?;
        match answer.status {
            StatusCode::OK => answer.json(),
            _ => Err(answer.error()),
        }
    }

    /// `POST /plans` or `/workloads`: the created resource and its `ETag`.
    pub async fn create(&self, kind: Kind, body: &Value) -> Result<(Value, Etag), ClientError> {
        let path = format!("/{}", kind.folder());
        let answer = self.send(Method::POST, &path, Some(body), None).await?;
        match answer.status {
            StatusCode::CREATED => answer.with_etag(),
            _ => Err(answer.error()),
        }
    }

    /// `PUT` with `If-Match: if_match`: the new version and its `ETag`;
    /// [`ClientError::PreconditionFailed`] when someone wrote since.
    pub async fn replace(
        &self,
        kind: Kind,
        key: &str,
        body: &Value,
        if_match: &Etag,
    ) -> Result<(Value, Etag), ClientError> {
        let path = format!("/{}/{}", kind.folder(), encode(key));
        let answer = self.send(Method::PUT, &path, Some(body), Some(if_match)).await?;
        match answer.status {
            StatusCode::OK => answer.with_etag(),
            _ => Err(answer.error()),
        }
    }

    /// `DELETE` with `If-Match: if_match`: retires (the history stays);
    /// the retired resource and its `ETag`.
    pub async fn retire(&self, kind: Kind, key: &str, if_match: &Etag) -> Result<(Value, Etag), ClientError> {
        let path = format!("/{}/{}", kind.folder(), encode(key));
        let answer = self.send(Method::DELETE, &path, None, Some(if_match)).await?;
        match answer.status {
            StatusCode::OK => answer.with_etag(),
            _ => Err(answer.error()),
        }
    }

    /// One request, sent again while its answer is [`transient`] (at most
    /// [`ATTEMPTS`] times, waiting [`BACKOFF`], then twice as long each
    /// time); the last answer read whole. No answer is
    /// [`ClientError::Unreachable`], at once.
    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        if_match: Option<&Etag>,
    ) -> Result<Answer, ClientError> {
        let mut wait = BACKOFF;
        for _ in 1..ATTEMPTS {
            let answer = self.send_once(method.clone(), path, body, if_match).await?;
            if !transient(&method, answer.status) {
                return Ok(answer);
            }
            tokio::time::sleep(wait).await;
            wait *= 2;
        }
        self.send_once(method, path, body, if_match).await
    }

    /// One request, its answer read whole; no answer is [`ClientError::Unreachable`].
    async fn send_once(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        if_match: Option<&Etag>,
    ) -> Result<Answer, ClientError> {
        let uri = format!("{}{path}", self.endpoint);
        let bytes = body.map_or_else(Bytes::new, |b| Bytes::from(b.to_string()));
        let mut request = Request::builder()
            .method(method)
            .uri(&uri)
            .body(bytes)
            .map_err(|e| ClientError::Endpoint {
                endpoint: self.endpoint.clone(),
                reason: format!("{path}: {e}"),
            })?;
        let headers = request.headers_mut();
        headers.insert(header::HOST, self.host.clone());
        headers.insert(header::ACCEPT, HeaderValue::from_static("application/json"));
        headers.insert(
            header::USER_AGENT,
            HeaderValue::from_static(concat!("support-plans/", env!("CARGO_PKG_VERSION"))),
        );
        if body.is_some() {
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        }
        if let Some(tag) = if_match {
            let value = HeaderValue::from_str(tag.as_str())
                .map_err(|_| ClientError::Other(0, format!("the ETag {tag:?} cannot be sent back")))?;
            headers.insert(header::IF_MATCH, value);
        }
        match &self.credentials {
            Credentials::Sigv4(signer) => signer.sign(&mut request).await?,
            Credentials::Bearer(value) => {
                request.headers_mut().insert(header::AUTHORIZATION, value.clone());
            }
            Credentials::Local { principal, groups } => {
                let headers = request.headers_mut();
                headers.insert("x-local-principal", principal.clone());
                if let Some(groups) = groups {
                    headers.insert("x-local-groups", groups.clone());
                }
            }
        }
        let request = request.map(Full::new);
        let unreachable = |reason: String| ClientError::Unreachable {
            endpoint: self.endpoint.clone(),
            reason,
        };
        let exchange = async {
            let response = self
                .transport
                .request(request)
                .await
                .map_err(|e| unreachable(cause(&e)))?;
            let status = response.status();
            let etag = response
                .headers()
                .get(header::ETAG)
                .and_then(|v| v.to_str().ok())
                .map(Etag::from);
            let body = Limited::new(response.into_body(), MAX_ANSWER_BYTES)
                .collect()
                .await
                .map_err(|e| unreachable(format!("the answer to {path} was cut off or too long: {e}")))?
                .to_bytes();
            Ok(Answer { status, etag, body })
        };
        tokio::time::timeout(self.answer_timeout, exchange)
            .await
            .map_err(|_| {
                unreachable(format!(
                    "no answer within {} s",
                    self.answer_timeout.as_secs_f32()
                ))
            })?
    }
}

impl Answer {
    fn json(&self) -> Result<Value, ClientError> {
        serde_json::from_slice(&self.body).map_err(|e| {
            ClientError::Other(
                self.status.as_u16(),
                format!(
                    "the answer is not JSON ({e}): {}",
                    one_line(&String::from_utf8_lossy(&self.body), 200)
                ),
            )
        })
    }

    fn with_etag(self) -> Result<(Value, Etag), ClientError> {
        let value = self.json()?;
        let etag = self
            .etag
            .ok_or_else(|| ClientError::Other(self.status.as_u16(), "the answer carried no ETag".into()))?;
        Ok((value, etag))
    }

    fn error(&self) -> ClientError {
        Answered::read(&self.body).into_error(self.status.as_u16())
    }
}

/// Whether the same request may be answered otherwise in a moment: a
/// throttle (429: API Gateway did nothing with it) for any request, and for
/// a read, which changes nothing, also a failure of the service, of Lambda or
/// of the gateway (500, 502, 503, 504). A write answered 5xx may have been
/// done: it is not sent again, whose answer ("already exists", "changed since
/// read") would hide what happened; the error says what the API answered.
fn transient(method: &Method, status: StatusCode) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS
        || (method == Method::GET
            && matches!(
                status,
                StatusCode::INTERNAL_SERVER_ERROR
                    | StatusCode::BAD_GATEWAY
                    | StatusCode::SERVICE_UNAVAILABLE
                    | StatusCode::GATEWAY_TIMEOUT
            ))
}

/// `localhost`, `127.0.0.0/8` or `::1`.
fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.eq_ignore_ascii_case("localhost")
        || bare.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Percent-encodes all but RFC 3986's unreserved characters, as SigV4's
/// canonical form writes them (so the signature holds for a cursor with
/// `+`, `/` or `=`).
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Why a request got no answer, from the innermost causes (connection
/// refused, a name not found, a certificate refused); never the request.
fn cause(e: &hyper_util::client::legacy::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(e);
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    if parts.is_empty() {
        parts.push(e.to_string());
    }
    let joined = parts.join(": ");
    if joined.contains("timed out") || joined.contains("deadline") {
        format!("{joined} (no connection within the connect timeout)")
    } else {
        joined
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_is_encoded_as_sigv4_writes_it() {
        assert_eq!(encode("eyJ+a/b="), "eyJ%2Ba%2Fb%3D");
        assert_eq!(encode("aws-business"), "aws-business");
    }

    #[test]
    fn loopback_is_recognised() {
        for host in ["127.0.0.1", "localhost", "[::1]", "127.1.2.3"] {
            assert!(is_loopback(host), "{host}");
        }
        for host in ["example.com", "10.0.0.1", "localhost.example.com"] {
            assert!(!is_loopback(host), "{host}");
        }
    }

    #[tokio::test]
    async fn http_off_loopback_is_refused() {
        let e = Client::new("http://api.example.com", Auth::Bearer("t".into()))
            .await
            .expect_err("refused");
        assert!(e.to_string().contains("use https"), "{e}");
        let e = Client::new(
            "https://api.example.com",
            Auth::Local {
                principal: "dana".into(),
                groups: vec![],
            },
        )
        .await
        .expect_err("refused");
        assert!(e.to_string().contains("local stack"), "{e}");
        let e = Client::new("https://u:p@api.example.com", Auth::Bearer("t".into()))
            .await
            .expect_err("refused");
        assert!(e.to_string().contains("must not carry credentials"), "{e}");
    }

    #[tokio::test]
    async fn a_token_is_never_shown() {
        let token = "eyJhbGciOiJSUzI1NiJ9.secret-part.signature";
        let auth = Auth::Bearer(token.into());
        assert!(!format!("{auth:?}").contains("secret-part"));
        let client = Client::new("https://api.example.com/prod", auth)
            .await
            .expect("a client");
        let shown = format!("{client:?}");
        assert!(!shown.contains("secret-part"), "{shown}");
    }
}
